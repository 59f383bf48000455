"""Run the site in a separate process under production settings, as Railway would.

Production settings read the environment once, at start-up, so each case starts its own Python
process with exactly the variables it names: nothing leaks in from the test run.
"""

import functools
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

{% if cookiecutter.media_storage == "bucket" -%}
import boto3
from botocore.config import Config
{% endif -%}
from django.db import connection

PROJECT_DIR = Path(__file__).resolve().parent.parent
PRODUCTION_SETTINGS = "{{ cookiecutter.project_slug }}.settings.production"
PUBLIC_DOMAIN = "{{ cookiecutter.project_slug|replace('_', '-') }}-production.up.railway.app"
HEALTHCHECK_HOST = "healthcheck.railway.app"

# Requests the process makes with Django's test client, then reports as JSON on stdout.
CLIENT_SCRIPT = """
import json, sys
from {{ cookiecutter.project_slug }}.wsgi import application
from django.test import Client

results = []
for path, headers in json.loads(sys.argv[1]):
    response = Client(raise_request_exception=False).get(path, headers=headers)
    results.append({
        "status": response.status_code,
        "headers": dict(response.headers),
        "cookies": {name: dict(morsel) for name, morsel in response.cookies.items()},
        "body": response.content.decode("utf-8", "replace"),
    })
print(json.dumps(results))
"""


def shared_database_url():
    """The URL of the database this test run uses, for the child process to share it."""
    settings = connection.settings_dict
    user = quote(settings["USER"] or "", safe="")
    password = quote(settings["PASSWORD"] or "", safe="")
    credentials = f"{user}:{password}@" if password else f"{user}@" if user else ""
    port = f":{settings['PORT']}" if settings["PORT"] else ""
    return f"postgres://{credentials}{settings['HOST'] or 'localhost'}{port}/{settings['NAME']}"


{%- if cookiecutter.media_storage == "bucket" %}


@functools.cache
def scratch_bucket():
    """Return the Railway variables of a new, empty bucket on the tests' S3 API.

    The S3 API is the one at TEST_S3_ENDPOINT (any S3-compatible server that takes any
    credentials, such as moto's: ``pip install "moto[server]"``, ``moto_server -p 5000``, then
    ``TEST_S3_ENDPOINT=http://127.0.0.1:5000``; CI runs it as a service container).
    """
    endpoint = os.environ.get("TEST_S3_ENDPOINT", "").strip()
    if not endpoint:
        raise AssertionError(
            "TEST_S3_ENDPOINT is not set: the bucket tests need an S3 API, e.g. "
            "pip install 'moto[server]' && moto_server -p 5000, then "
            "TEST_S3_ENDPOINT=http://127.0.0.1:5000 (README, Tests)"
        )
    variables = {
        "BUCKET": f"test-{secrets.token_hex(6)}",
        "ACCESS_KEY_ID": "AK" + secrets.token_hex(9).upper(),
        "SECRET_ACCESS_KEY": secrets.token_urlsafe(30),
        "REGION": "us-east-1",
        "ENDPOINT": endpoint,
        # A local server answers on an IP address, where bucket.host names do not resolve.
        "AWS_S3_ADDRESSING_STYLE": "path",
        "BUCKET_TIMEOUT": "2",
    }
    bucket_client(variables).create_bucket(Bucket=variables["BUCKET"])
    return variables


def bucket_client(variables):
    """Return a boto3 S3 client for the bucket these variables describe (not the site's)."""
    return boto3.client(
        "s3",
        endpoint_url=variables["ENDPOINT"],
        region_name=variables["REGION"],
        aws_access_key_id=variables["ACCESS_KEY_ID"],
        aws_secret_access_key=variables["SECRET_ACCESS_KEY"],
        config=Config(s3={"addressing_style": "path"}, connect_timeout=5, read_timeout=10),
    )
{%- endif %}


def production_env(**changes):
    """The variables Railway gives the service, plus ``changes`` (None removes a variable)."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", ""),
        "LANG": "C.UTF-8",
        "PYTHONPATH": str(PROJECT_DIR),
        "DJANGO_SETTINGS_MODULE": PRODUCTION_SETTINGS,
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DATABASE_URL": "postgres://postgres@127.0.0.1:1/unreachable",
        "RAILWAY_PUBLIC_DOMAIN": PUBLIC_DOMAIN,
        "RAILWAY_PRIVATE_DOMAIN": "web.railway.internal",
        "RAILWAY_ENVIRONMENT_NAME": "production",
        "RAILWAY_SERVICE_NAME": "web",
        "PORT": "8080",
    }
{%- if cookiecutter.media_storage == "bucket" %}
    env.update(scratch_bucket())
{%- endif %}
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def run_python(args, env, timeout=60):
    """Run ``python <args>`` in the project folder; returns the CompletedProcess."""
    return subprocess.run(
        [sys.executable, *args],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@functools.cache
def build_static_files():
    """Run the build step (collectstatic) once per test run: production pages need its manifest."""
    result = run_python(
        ["manage.py", "collectstatic", "--noinput", f"--settings={PRODUCTION_SETTINGS}"],
        production_env(),
        timeout=120,
    )
    if result.returncode != 0:
        raise AssertionError(f"collectstatic failed:\n{result.stderr[-3000:]}")


def fetch(requests, env, timeout=60):
    """Make ``requests`` ([(path, headers), ...]) in a production process; one dict per request."""
    build_static_files()
    result = run_python(["-c", CLIENT_SCRIPT, json.dumps(requests)], env, timeout=timeout)
    if result.returncode != 0:
        raise AssertionError(f"the production process failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def edge_headers(**extra):
    """Headers of a request that came through Railway's edge over HTTPS."""
    return {"host": PUBLIC_DOMAIN, "x-forwarded-proto": "https", **extra}
