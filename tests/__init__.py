import os
import warnings

# Starlette's test client works with httpx; its nudge towards another client is noise here
# (set before conftest imports it, so it never reaches the end of the test output).
warnings.filterwarnings("ignore", message=".*starlette.testclient.*")

# Background workers run only where a test starts or drives them (on a fixed clock), never
# behind other tests' backs; explicit settings in a test still win over these.
os.environ.setdefault("MASTHEAD_WEBHOOK_WORKER", "false")
os.environ.setdefault("MASTHEAD_OUTBOX_SENDER", "false")
