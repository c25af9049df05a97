"""The monthly, quarterly and annual reports (R-REP): one package from the rows to the page.

- `periods`: the period a report covers (a month, a quarter, a year).
- `facts`: what a report needs of one audit, kept on its row.
- `rows`: reading the rows of a period from the database.
- `figures`: the figures worked out from those rows (pure).
- `text`: the report's words, written from its figures (pure).
- `csv_export` and `charts`: the figures as CSV and as SVG charts.
"""
