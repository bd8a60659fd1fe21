"""The test suite (a regular package, so that a `tests` package some dependency installs into site-packages cannot shadow it)."""
