"""What an error report (the admins' e-mail, the log) shows in production.

Django's reporter prints the value of every local variable in every frame, and printing a value
can query the database: a QuerySet runs, a Query compiles against the server's version, a lazy
``request.user`` reads the session. When the database is what failed (it hangs), each of those
waits for the connect timeout again: one failed admin login took about 27 s instead of 3 s,
holding a worker thread all that time. Local values may also carry personal data. So reports
list each frame's variable names, not their values, while DEBUG is off; the traceback itself
(files, lines, code) is unchanged. The settings (and request.META keys) named like a secret
variable (environment.SECRET_VARIABLES: REDIS_URL carries a password on Railway, SENTRY_DSN a
key), and the cache's LOCATION, which holds REDIS_URL's value, are hidden like passwords.
"""

import re

from django.views.debug import SafeExceptionReporterFilter

from .settings.environment import SECRET_VARIABLES


class ReporterFilter(SafeExceptionReporterFilter):
    """Django's safe filter, plus: no local values, no secret variables, no cache location."""

    hidden_settings = re.compile(
        "|".join(
            [SafeExceptionReporterFilter.hidden_settings.pattern, *SECRET_VARIABLES, "LOCATION"]
        ),
        flags=re.I,
    )

    def get_traceback_frame_variables(self, request, tb_frame):
        """Return the frame's variable names, each with a placeholder value (DEBUG off)."""
        if not self.is_active(request):
            return super().get_traceback_frame_variables(request, tb_frame)
        return [(name, self.cleansed_substitute) for name in tb_frame.f_locals]
