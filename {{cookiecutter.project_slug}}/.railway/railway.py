"""Railway Infrastructure as Code for this site: the whole Railway project in one file.

The Railway CLI evaluates it on your machine with `python3` (which must import railway-sdk:
`pip install railway-sdk==0.7.0` in the active virtual environment) and calls ``main()``.
From the repository root:

    railway login
    railway link               # an existing project, or `railway init` for a new one
    railway config plan        # read-only: what would change
    railway config apply       # create or update the resources below

Then set the secret key once; its value is never written here (`preserve()` keeps what you set).
The README shows the command (`railway variables --set "SECRET_KEY=..."`).

The commands below are the same strings as in Procfile and the README; keep them in step.
Offline check: ``main(create_railway_context(environment="production")).to_graph()``.
"""

from railway_sdk import define_railway, github, postgres, preserve, project, {% if cookiecutter.use_redis %}redis, {% endif %}service

PROJECT_NAME = {{ cookiecutter.project_name|python_string }}
SERVICE_NAME = "{{ cookiecutter.railway_service_name }}"
GITHUB_REPOSITORY = "{{ cookiecutter.github_repository }}"
# The branch Railway builds from when it deploys from GitHub by itself (the first deploy branch).
DEPLOY_BRANCH = "{{ cookiecutter.deploy_branches.split(',')[0].strip() }}"
{%- if cookiecutter.custom_domain %}
CUSTOM_DOMAIN = "{{ cookiecutter.custom_domain }}"
# The port gunicorn listens on (PORT below) and the custom domain forwards to.
APP_PORT = 8080
{%- endif %}

PRODUCTION_SETTINGS = "{{ cookiecutter.project_slug }}.settings.production"
# Build: collect static files once per image (WhiteNoise serves them hashed and compressed).
BUILD_COMMAND = f"python manage.py collectstatic --noinput --settings={PRODUCTION_SETTINGS}"
# Pre-deploy: runs once per deployment, in its own container, before the new release starts
# (system checks, then migrations). A non-zero exit stops the deployment.
PRE_DEPLOY_COMMAND = f"python manage.py deploy --settings={PRODUCTION_SETTINGS}"
# Start: gunicorn reads PORT, WEB_CONCURRENCY, GUNICORN_THREADS, ... in gunicorn.conf.py.
START_COMMAND = "gunicorn --config gunicorn.conf.py"
# A new deployment gets traffic only once this path answers 200 (within the timeout, seconds).
HEALTHCHECK_PATH = "/health/"
HEALTHCHECK_TIMEOUT = 120
RESTART_POLICY_TYPE = "ON_FAILURE"
# Free and Trial plans allow at most 10 retries.
RESTART_POLICY_MAX_RETRIES = 10


@define_railway
def main(ctx=None):
    """PostgreSQL{% if cookiecutter.use_redis %}, Redis{% endif %} and the web service, for every environment."""
    db = postgres("Postgres")
{%- if cookiecutter.use_redis %}
    cache = redis("Redis")
{%- endif %}

    env = {
        # A reference Railway resolves: the Postgres service's private-network URL.
        "DATABASE_URL": db.env.DATABASE_URL,
        # Set once with `railway variables --set`; preserve() keeps that value.
        "SECRET_KEY": preserve(),
{%- if cookiecutter.use_redis %}
        "REDIS_URL": cache.env.REDIS_URL,
{%- endif %}
{%- if cookiecutter.use_sentry %}
        # Optional: set it to report errors to Sentry; the site runs without it.
        "SENTRY_DSN": preserve(),
{%- endif %}
{%- if cookiecutter.custom_domain %}
        # RAILWAY_PUBLIC_DOMAIN is allowed automatically; the custom domain is added here.
        "DJANGO_ALLOWED_HOSTS": CUSTOM_DOMAIN,
        "PORT": str(APP_PORT),
{%- endif %}
    }

    web = service(
        SERVICE_NAME,
        source=github(GITHUB_REPOSITORY, branch=DEPLOY_BRANCH),
        build=BUILD_COMMAND,
        start=START_COMMAND,
        preDeploy=[PRE_DEPLOY_COMMAND],
        healthcheck=HEALTHCHECK_PATH,
        healthcheckTimeout=HEALTHCHECK_TIMEOUT,
        deploy={
            "restartPolicyType": RESTART_POLICY_TYPE,
            "restartPolicyMaxRetries": RESTART_POLICY_MAX_RETRIES,
        },
        env=env,
{%- if cookiecutter.custom_domain %}
        domains=[{"domain": CUSTOM_DOMAIN, "port": APP_PORT}],
{%- endif %}
    )

    return project(PROJECT_NAME, resources=[db, {% if cookiecutter.use_redis %}cache, {% endif %}web])
