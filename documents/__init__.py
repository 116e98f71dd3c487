"""Document rendering: jinja2 templates to PDF with an embedded CJK font."""
