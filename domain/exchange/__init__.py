"""The measurement exchange format: CSV or XLSX in, validated rows out, and CSV back out.

Pure on purpose: no ORM and no settings, so it imports without Django configured. The import
service resolves codes against the database, checks duplicates and declared breakdowns; this
package only turns bytes into validated rows (or exact row/column errors) and rows into CSV.

- format: the columns, the row and error types every other module speaks.
- cells: one cell to its value: text, period, breakdown and Swedish Excel numbers.
- reading: bytes to rows, streaming CSV (any Excel encoding) or XLSX.
- writing: rows back to CSV that reads back equal.
"""
