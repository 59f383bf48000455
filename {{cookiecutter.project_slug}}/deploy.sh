#!/usr/bin/env bash
# Manual deploy to Railway through the Railway CLI, with preflight checks.
# Run ./deploy.sh --help for the options. GitHub Actions (.github/workflows/deploy.yml) does the
# same on every push to a deploy branch; use this script when you deploy from your machine.
set -euo pipefail

readonly HEALTH_PATH="/health/"
readonly POLL_INTERVAL_SECONDS=5
readonly POLL_TIMEOUT_SECONDS=300
# `railway up --ci` waits for SUCCESS or FAILED/CRASHED only; a deployment that another deploy
# replaced (REMOVED, SKIPPED) would keep it waiting for ever.
deploy_timeout="${DEPLOY_TIMEOUT_SECONDS:-1800}"

service="{{ cookiecutter.railway_service_name }}"
environment="production"
domain="${RAILWAY_PUBLIC_DOMAIN:-{{ cookiecutter.custom_domain }}}"
run_tests=1

usage() {
    cat <<'USAGE'
Usage: ./deploy.sh [--skip-tests] [--service NAME] [--environment NAME] [--domain HOST]

Deploy the current directory to Railway with `railway up --ci`, then wait until
https://HOST/health/ answers 200.

Checks first, and stops at the first failure:
  the Railway CLI is installed, you are logged in (or RAILWAY_TOKEN is set),
  the service has SECRET_KEY set (without it the site refuses to start),
  the git work tree is clean, and the tests pass.

Options:
  --skip-tests          do not run the tests (`manage.py test`) first
  --service NAME        Railway service to deploy (default: {{ cookiecutter.railway_service_name }})
  --environment NAME    Railway environment (default: production)
  --domain HOST         host to check after the deploy (default: $RAILWAY_PUBLIC_DOMAIN,
                        else the custom domain chosen for the project; without one the
                        health check is skipped)
  -h, --help            show this help

Options that take a value also accept --option=VALUE.

Environment:
  RAILWAY_TOKEN          a Railway project token, instead of `railway login` (CI)
  RAILWAY_PUBLIC_DOMAIN  the default for --domain
  DEPLOY_TIMEOUT_SECONDS how long to wait for `railway up` (default 1800): a deployment that
                         another deploy replaced never ends its wait

Exit status: 0 when deployed (and healthy, when a domain is known); 1 when a check, the
tests, the deploy or the health check failed; 2 for a wrong option or argument.
USAGE
}

fail() {
    echo "deploy.sh: $*" >&2
    exit 1
}

usage_error() {
    echo "deploy.sh: $*" >&2
    echo "Run ./deploy.sh --help for the options." >&2
    exit 2
}

while [[ $# -gt 0 ]]; do
    case "$1" in
        -h | --help)
            usage
            exit 0
            ;;
        --skip-tests)
            run_tests=0
            ;;
        --service | --environment | --domain)
            [[ $# -ge 2 && -n "$2" && "$2" != -* ]] || usage_error "$1 needs a value"
            case "$1" in
                --service) service="$2" ;;
                --environment) environment="$2" ;;
                --domain) domain="$2" ;;
            esac
            shift
            ;;
        --service=* | --environment=* | --domain=*)
            value="${1#*=}"
            [[ -n "$value" ]] || usage_error "${1%%=*} needs a value"
            case "$1" in
                --service=*) service="$value" ;;
                --environment=*) environment="$value" ;;
                --domain=*) domain="$value" ;;
            esac
            ;;
        -*)
            usage_error "unknown option: $1"
            ;;
        *)
            usage_error "unexpected argument: $1 (deploy.sh takes options only)"
            ;;
    esac
    shift
done

# Run from the project root (where this script lives), wherever it is called from.
cd "$(dirname "${BASH_SOURCE[0]}")"

# ---- Preflight -------------------------------------------------------------------------------

command -v railway >/dev/null 2>&1 \
    || fail "the Railway CLI is not installed: npm i -g @railway/cli (then: railway login)"

if [[ -n "${RAILWAY_TOKEN:-}" ]]; then
    echo "Using RAILWAY_TOKEN (a project token) for Railway."
elif ! railway whoami >/dev/null 2>&1; then
    fail "not logged in to Railway: run railway login (or export RAILWAY_TOKEN)"
fi

[[ "$deploy_timeout" =~ ^[1-9][0-9]*$ ]] \
    || fail "DEPLOY_TIMEOUT_SECONDS=$deploy_timeout is not a whole number of seconds"

if [[ -n "$domain" ]]; then
    command -v curl >/dev/null 2>&1 || fail "curl is not installed (needed for the health check)"
fi

command -v git >/dev/null 2>&1 || fail "git is not installed"
git rev-parse --is-inside-work-tree >/dev/null 2>&1 || fail "not inside a git work tree"
changes="$(git status --porcelain)" || fail "git status failed"
[[ -z "$changes" ]] || fail "the git work tree has uncommitted changes: commit or stash them first"

# The site refuses to start without SECRET_KEY, so a deploy without it fails: check first. The
# list holds the values, so it is kept in a variable and only the key's presence is looked at.
variables="$(railway variable list --service "$service" --environment "$environment" --json 2>/dev/null)" \
    || fail "cannot read the variables of service '$service' in '$environment' (railway variable list): does the service exist?"
grep -Eq '^[[:space:]]*"SECRET_KEY":[[:space:]]*"[^"]' <<<"$variables" \
    || fail "SECRET_KEY is not set on service '$service': python -c 'import secrets; print(secrets.token_urlsafe(50))' | railway variable set SECRET_KEY --stdin --service $service"
unset variables

if [[ "$run_tests" -eq 1 ]]; then
{%- if cookiecutter.package_manager == "uv" %}
    # The locked environment (.venv, dev group included), as `make test` and CI run them.
    command -v uv >/dev/null 2>&1 || fail "uv is not on PATH: install it (python3 -m pip install uv==0.13.8)"
    echo "Running the tests (skip with --skip-tests)..."
    uv run --locked python manage.py test || fail "the tests failed: fix them before deploying"
{%- else %}
    python_bin="$(command -v python || command -v python3 || true)"
    [[ -n "$python_bin" ]] || fail "python is not on PATH: activate the project's virtual environment"
    echo "Running the tests (skip with --skip-tests)..."
    "$python_bin" manage.py test || fail "the tests failed: fix them before deploying"
{%- endif %}
else
    echo "Skipping the tests (--skip-tests)."
fi

# ---- Deploy ----------------------------------------------------------------------------------

echo "Deploying $(git rev-parse --short HEAD) to service '$service' in environment '$environment'..."
# --ci streams the build log and exits 0 when the deployment succeeds, non-zero when it fails.
# timeout (coreutils) ends the wait when it lasts too long; without it, the wait is unbounded.
has_timeout=0
command -v timeout >/dev/null 2>&1 && has_timeout=1
up_status=0
if [[ "$has_timeout" -eq 1 ]]; then
    timeout "$deploy_timeout" railway up --ci --service "$service" --environment "$environment" \
        || up_status=$?
else
    railway up --ci --service "$service" --environment "$environment" || up_status=$?
fi
if [[ "$up_status" -eq 124 && "$has_timeout" -eq 1 ]]; then
    fail "railway up still waiting after $deploy_timeout s: another deploy may have replaced this one (see the service's Deployments in the dashboard)"
elif [[ "$up_status" -ne 0 ]]; then
    fail "railway up failed: see the build and deploy logs above (railway logs)"
fi

# ---- Health check ----------------------------------------------------------------------------

if [[ -z "$domain" ]]; then
    echo "WARNING: no domain to check (use --domain HOST or set RAILWAY_PUBLIC_DOMAIN): skipping the health check." >&2
    exit 0
fi

url="https://${domain}${HEALTH_PATH}"
echo "Waiting for $url to answer 200 (up to $((POLL_TIMEOUT_SECONDS / 60)) minutes)..."
deadline=$((SECONDS + POLL_TIMEOUT_SECONDS))
status="none"
while ((SECONDS < deadline)); do
    status="$(curl --silent --output /dev/null --write-out '%{http_code}' --max-time 10 "$url" || true)"
    if [[ "$status" == "200" ]]; then
        echo "Healthy: $url answered 200."
        exit 0
    fi
    sleep "$POLL_INTERVAL_SECONDS"
done
fail "$url did not answer 200 within $POLL_TIMEOUT_SECONDS s (last status: $status)"
