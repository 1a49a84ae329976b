"""The tertial report as a document (issue 14): cover, "Måluppfyllelse i perspektiv", per
perspective the overall assessment beside the computed roll-up, the indicator tables, the
analysis texts and the action plan; as DOCX (word) and as tagged PDF (pdf), both written
from one assembly (content.tertial_document)."""
