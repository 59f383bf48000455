"""Settings modules: ``local`` (runserver), ``test`` (the test suite), ``production`` (Railway)."""
