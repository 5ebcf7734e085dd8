import warnings

# Starlette's test client works with httpx; its nudge towards another client is noise here
# (set before conftest imports it, so it never reaches the end of the test output).
warnings.filterwarnings("ignore", message=".*starlette.testclient.*")
