"""Pictures for the research methods (ACORM: :mod:`course_lib.viz.acorm`)."""
