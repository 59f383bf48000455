"""Uploaded files: where production keeps them{% if cookiecutter.media_storage == "bucket" %} (the bucket){% else %} (nowhere: it refuses them){% endif %}, and the one-line errors."""

{% if cookiecutter.media_storage == "bucket" -%}
import json
import struct
import tempfile
import unittest
import urllib.error
import urllib.request
import zlib
from pathlib import Path

from botocore.exceptions import ConnectTimeoutError
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.forms import modelform_factory
from django.http import HttpRequest
from django.test import TestCase, override_settings
from PIL import Image

from {{ cookiecutter.project_slug }} import media
from {{ cookiecutter.project_slug }}.users.models import User
from {{ cookiecutter.project_slug }}.users.validators import AVATAR_MAX_BYTES, AVATAR_MAX_SIDE

from .helpers import (
    HEALTHCHECK_HOST,
    bucket_client,
    fetch,
    production_env,
    run_python,
    scratch_bucket,
    shared_database_url,
)
from .test_health import SilentServer
{%- else -%}
import json
import unittest
from pathlib import Path

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import HttpRequest

from {{ cookiecutter.project_slug }} import media

from .helpers import PROJECT_DIR, production_env, run_python
{%- endif %}


class LocalStorageTests(unittest.TestCase):
    def test_local_development_and_tests_store_files_under_media(self):
        self.assertEqual(
            settings.STORAGES["default"]["BACKEND"], "django.core.files.storage.FileSystemStorage"
        )
        self.assertEqual(Path(settings.MEDIA_ROOT), Path(settings.BASE_DIR) / "media")
        self.assertEqual(default_storage.location, str(Path(settings.BASE_DIR) / "media"))


class StorageUnavailableMiddlewareTests(unittest.TestCase):
    def middleware(self):
        return media.StorageUnavailableMiddleware(lambda request: None)

    def test_other_exceptions_are_left_to_django(self):
        self.assertIsNone(self.middleware().process_exception(HttpRequest(), ValueError("x")))
{%- if cookiecutter.media_storage == "bucket" %}

    def test_a_bucket_failure_is_a_503_with_a_sentence(self):
        failure = ConnectTimeoutError(endpoint_url="http://bucket.invalid")
        response = self.middleware().process_exception(HttpRequest(), failure)
        self.assertEqual(response.status_code, 503)
        self.assertEqual(response.content.decode(), media.UNAVAILABLE_MESSAGE)


def png(width, height, **options):
    """Return a PNG image of this size as an upload."""
    with tempfile.SpooledTemporaryFile() as out:
        Image.new("RGB", (width, height), "white").save(out, "PNG", **options)
        out.seek(0)
        return SimpleUploadedFile("avatar.png", out.read(), content_type="image/png")


def pixel_bomb(width, height):
    """Return a small PNG whose header claims width x height pixels (never decoded here)."""

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
    return SimpleUploadedFile("bomb.png", data + chunk(b"IEND", b""), content_type="image/png")


@override_settings(MEDIA_ROOT=tempfile.mkdtemp(prefix="avatars-"))
class AvatarValidationTests(TestCase):
    """The avatar field as the admin's form sees it: only modest real images get through."""

    form_class = modelform_factory(User, fields=["avatar"])

    def errors(self, upload):
        user = User.objects.create_user("ann", "ann@example.org", "pw-ann-1234")
        form = self.form_class(instance=user, files={"avatar": upload})
        return form.errors.get("avatar", [])

    def test_a_small_png_is_accepted(self):
        self.assertEqual(self.errors(png(64, 64)), [])

    def test_a_text_file_is_refused(self):
        upload = SimpleUploadedFile("avatar.png", b"not an image at all", content_type="image/png")
        self.assertIn("Upload a valid image", " ".join(self.errors(upload)))

    def test_too_many_pixels_are_refused_without_decoding(self):
        # Below Pillow's own decompression-bomb limit (about 89 million pixels), above ours.
        errors = " ".join(self.errors(pixel_bomb(6_000, 6_000)))
        self.assertIn(f"the limit is {AVATAR_MAX_SIDE} x {AVATAR_MAX_SIDE}", errors)

    def test_a_decompression_bomb_is_refused_by_pillow(self):
        errors = " ".join(self.errors(pixel_bomb(30_000, 30_000)))
        self.assertIn("Upload a valid image", errors)

    def test_a_file_over_the_size_limit_is_refused(self):
        upload = png(64, 64)
        upload.size = AVATAR_MAX_BYTES + 1
        self.assertIn("the limit is 2.0", " ".join(self.errors(upload)))


# Saves a file through the site's storage under production settings, reads it back through
# its presigned URL, and reports what it saw.
ROUND_TRIP = """
import json, time, urllib.request
import django
django.setup()
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
started = time.monotonic()
name = default_storage.save("checks/hello.txt", ContentFile(b"kept across deploys"))
url = default_storage.url(name)
with urllib.request.urlopen(url, timeout=10) as response:
    body = response.read().decode()
print(json.dumps({
    "backend": settings.STORAGES["default"]["BACKEND"],
    "name": name,
    "url": url,
    "body": body,
    "seconds": time.monotonic() - started,
}))
"""

# Tries one upload and reports how it failed and how long it took.
FAILING_SAVE = """
import json, time
import django
django.setup()
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from {{ cookiecutter.project_slug }}.media import is_storage_failure
started = time.monotonic()
try:
    default_storage.save("checks/lost.txt", ContentFile(b"x"))
except Exception as error:
    print(json.dumps({"failure": is_storage_failure(error), "seconds": time.monotonic() - started}))
"""


class BucketInProductionTests(unittest.TestCase):
    # The health checks share the test database with the production process: the runner must
    # create it even when only this module runs (it creates the databases its tests name).
    databases = {"default"}

    def run_script(self, script, env, timeout=60):
        result = run_python(["-c", script], env, timeout=timeout)
        self.assertEqual(result.returncode, 0, result.stderr[-2000:])
        return json.loads(result.stdout.strip().splitlines()[-1])

    def test_upload_goes_to_the_private_bucket_and_reads_back_by_presigned_url(self):
        with tempfile.TemporaryDirectory() as home:
            env = production_env(HOME=home)
            report = self.run_script(ROUND_TRIP, env)
            self.assertEqual(report["backend"], "storages.backends.s3.S3Storage")
            self.assertEqual(report["body"], "kept across deploys")
            self.assertIn("X-Amz-Signature=", report["url"])
            self.assertIn("X-Amz-Expires=3600", report["url"])
            # The object is in the bucket (asked directly, not through the site) ...
            variables = scratch_bucket()
            found = bucket_client(variables).get_object(
                Bucket=variables["BUCKET"], Key=report["name"]
            )
            self.assertEqual(found["Body"].read(), b"kept across deploys")
            # ... is private: the URL without its signature is refused ...
            bare = report["url"].split("?", 1)[0]
            with self.assertRaises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(bare, timeout=10)  # noqa: S310
            self.assertEqual(refused.exception.code, 403)
            # ... and nothing was written in the container.
            self.assertFalse((Path(settings.BASE_DIR) / "media" / "checks").exists())
            self.assertEqual(list(Path(home).iterdir()), [])

    def test_a_hung_bucket_fails_the_upload_in_bounded_time(self):
        server = SilentServer()
        self.addCleanup(server.close)
        env = production_env(ENDPOINT=f"http://127.0.0.1:{server.port}", BUCKET_TIMEOUT="1")
        report = self.run_script(FAILING_SAVE, env, timeout=30)
        self.assertTrue(report["failure"], report)
        seconds = report["seconds"]
        print(f"\nupload to a hung bucket failed after {seconds:.2f} s (BUCKET_TIMEOUT=1)")
        self.assertTrue(server.accepted, "the site never tried the hung bucket")

    def test_health_checks_the_bucket(self):
        env = production_env(DATABASE_URL=shared_database_url())
        [probe] = fetch([("/health/", {"host": HEALTHCHECK_HOST})], env)
        self.assertEqual(json.loads(probe["body"])["checks"].get("bucket"), "pass", probe)

    def test_health_with_a_hung_bucket_is_a_bounded_503(self):
        server = SilentServer()
        self.addCleanup(server.close)
        env = production_env(
            DATABASE_URL=shared_database_url(),
            ENDPOINT=f"http://127.0.0.1:{server.port}",
            BUCKET_TIMEOUT="30",
            HEALTH_CHECK_TIMEOUT="1",
        )
        [probe] = fetch([("/health/", {"host": HEALTHCHECK_HOST})], env, timeout=20)
        self.assertEqual(probe["status"], 503)
        self.assertEqual(json.loads(probe["body"])["checks"]["bucket"], "fail")

    def assert_stops_with_one_line(self, variable, **changes):
        result = run_python(["-c", "import {{ cookiecutter.project_slug }}.wsgi"], production_env(**changes))
        self.assertNotEqual(result.returncode, 0)
        lines = result.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, result.stderr)
        self.assertTrue(lines[0].startswith("ERROR: "), lines[0])
        self.assertIn(variable, lines[0])
        self.assertNotIn(scratch_bucket()["SECRET_ACCESS_KEY"], result.stderr)

    def test_each_missing_bucket_variable_is_named(self):
        for name in ("BUCKET", "ACCESS_KEY_ID", "SECRET_ACCESS_KEY", "REGION", "ENDPOINT"):
            with self.subTest(variable=name):
                self.assert_stops_with_one_line(name, **{name: None})

    def test_bad_endpoint_and_addressing_style(self):
        self.assert_stops_with_one_line("ENDPOINT", ENDPOINT="storage.railway.app")
        self.assert_stops_with_one_line("AWS_S3_ADDRESSING_STYLE", AWS_S3_ADDRESSING_STYLE="dns")
{%- else %}

    def test_a_refused_upload_is_a_503_with_a_sentence(self):
        failure = media.UploadsRefused(media.UNAVAILABLE_MESSAGE)
        response = self.middleware().process_exception(HttpRequest(), failure)
        self.assertEqual(response.status_code, 503)
        self.assertIn("generated without a bucket", response.content.decode())


# Tries to store a file under production settings; reports what happened.
TRY_UPLOAD = """
import json
import django
django.setup()
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
try:
    default_storage.save("uploads/lost.txt", ContentFile(b"would vanish at the next deploy"))
    outcome = "saved"
except Exception as error:
    outcome = f"{type(error).__name__}: {error}"
print(json.dumps({"outcome": outcome, "media_root": str(settings.MEDIA_ROOT)}))
"""


class NoBucketInProductionTests(unittest.TestCase):
    def test_production_refuses_uploads_instead_of_writing_to_the_container(self):
        result = run_python(["-c", TRY_UPLOAD], production_env())
        self.assertEqual(result.returncode, 0, result.stderr[-2000:])
        report = json.loads(result.stdout.strip().splitlines()[-1])
        self.assertTrue(report["outcome"].startswith("UploadsRefused: "), report)
        self.assertIn("generated without a bucket", report["outcome"])
        self.assertFalse((PROJECT_DIR / "media" / "uploads" / "lost.txt").exists())
{%- endif %}
