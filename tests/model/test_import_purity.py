import subprocess
import sys


def test_model_imports_no_front_end_library():
    code = ("import sys, kafkalab.model, kafkalab.scenarios, kafkalab.trace; "
            "print(','.join(m for m in ('ipywidgets', 'plotly', 'networkx', 'numpy') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == ""
