"""The Gradio web chat."""

import os

# Gradio reads this when it is imported and when a Blocks is created (telemetry, version check): set before
# any module of this package imports gradio; Blocks(analytics_enabled=False) says it again.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
