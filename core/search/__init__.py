"""The run search language in pure Python: parser and reference evaluator (no SQL here)."""
