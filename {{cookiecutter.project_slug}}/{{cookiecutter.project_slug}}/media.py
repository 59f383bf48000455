"""Uploaded files (media): where production keeps them, and what a request sees when it cannot.

{%- if cookiecutter.media_storage == "bucket" %}
Production stores them in a Railway Storage Bucket through django-storages' S3 backend
(settings/production.py). A bucket that does not answer within BUCKET_TIMEOUT seconds makes the
request fail with a 503 and one sentence, instead of a 500 or a worker held until gunicorn kills
it; ``check_bucket`` is what /health/ and ``manage.py deploy`` ask.
{%- else %}
This site was generated without a bucket (media_storage "none"). A Railway container's files
vanish at every deploy and are not shared between replicas, so production refuses to store an
upload (``UploadsRefusedStorage``) and the request gets a 503 with a sentence saying why, instead
of a file that would be lost. Local development and the tests store uploads in media/.
{%- endif %}
"""

import logging

{%- if cookiecutter.media_storage == "bucket" %}

from botocore.exceptions import BotoCoreError, ClientError
from django.core.files.storage import default_storage
{%- else %}

from django.core.files.storage import FileSystemStorage
{%- endif %}
from django.http import HttpResponse

logger = logging.getLogger(__name__)
{%- if cookiecutter.media_storage == "bucket" %}

UNAVAILABLE_MESSAGE = (
    "File storage is not answering right now; nothing was saved. Try again in a minute."
)


def check_bucket():
    """Ask the bucket for its metadata (an S3 HEAD on the bucket); raise if it does not answer."""
    client = default_storage.connection.meta.client
    client.head_bucket(Bucket=default_storage.bucket_name)


def is_storage_failure(exception):
    """Return whether ``exception`` means the bucket could not be reached or refused the request."""
    return isinstance(exception, (BotoCoreError, ClientError))
{%- else %}

UNAVAILABLE_MESSAGE = (
    "This site does not store uploaded files: it was generated without a bucket"
    " (media_storage none). Add a Railway Storage Bucket to keep uploads across deploys."
)


class UploadsRefused(Exception):
    """Production has nowhere to keep an uploaded file that survives the next deploy."""


class UploadsRefusedStorage(FileSystemStorage):
    """Production's file storage without a bucket: reads as usual, refuses every write."""

    def _save(self, name, content):
        raise UploadsRefused(UNAVAILABLE_MESSAGE)


def is_storage_failure(exception):
    """Return whether ``exception`` is a refused upload."""
    return isinstance(exception, UploadsRefused)
{%- endif %}


class StorageUnavailableMiddleware:
    """Answer 503 with one sentence when the file storage cannot take a request's file."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        """Return the 503 page for a storage failure; leave every other exception to Django."""
        if not is_storage_failure(exception):
            return None
        logger.error(
            "file storage failed for %s %s: %s",
            request.method,
            request.path,
            type(exception).__name__,
        )
        return HttpResponse(UNAVAILABLE_MESSAGE, status=503, content_type="text/plain")
