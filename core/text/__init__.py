"""Text helpers shared by every area: writing scripts and languages (:mod:`core.text.script`)
and the one Japanese tokenizer of the process (:mod:`core.text.japanese`)."""
