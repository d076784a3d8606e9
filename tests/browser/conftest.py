# The browser test is a script run by `make test-browser`, not a pytest module: its name matches
# pytest's *_test.py pattern, so keep `pytest tests` (make test-unit) from collecting it.
collect_ignore = ["run_browser_test.py"]
