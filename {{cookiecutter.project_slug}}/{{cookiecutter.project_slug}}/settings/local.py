"""Local development: runserver, DEBUG on, SQLite unless DATABASE_URL says otherwise.

Variables come from the environment and from ``.env`` in the project folder (written with a
fresh SECRET_KEY when the project was generated; never commit it).
"""

from pathlib import Path

from dotenv import load_dotenv

from .environment import ConfigurationError, env_str

# .env must be read before base reads the environment. Variables already set win.
load_dotenv(Path(__file__).resolve().parents[2] / ".env")

from .base import *  # noqa: E402, F403
from .base import BASE_DIR, database_config  # noqa: E402

DEBUG = True

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    raise ConfigurationError(
        "SECRET_KEY is not set: copy .env.example to .env and fill it in, "
        "or export SECRET_KEY in your shell"
    )

ALLOWED_HOSTS = ["localhost", "127.0.0.1", "[::1]"]

DATABASES = {
    "default": database_config(env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")),
}

# Tasks run at once, inside runserver, so mail shows up in its console without a worker.
TASKS = {
    "default": {
        "BACKEND": "{% if cookiecutter.django_version == "5.2" %}django_tasks{% else %}django.tasks{% endif %}.backends.immediate.ImmediateBackend",
    },
}
