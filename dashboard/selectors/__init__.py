"""Reads for the scorecard pages, one module per page or part of one.

Every page reads through one function here, in a fixed number of queries whatever the
number of periods, units and indicators. Statuses are the stored Assessments (override or
computed); a perspective's status is the manager's perspective assessment where one is set,
else the roll-up of domain.rules.

- report: the division report's lines, and their nesting as the page shows them.
- overview: goal fulfilment per org unit and perspective, and the board's landing page.
- division: the division page: summary, indicator tables, action plan, drill-down.
- indicator: one indicator at one org unit: its series and its units compared.
- over_time: indicators per status, perspective and period.
- comments: the published cell comments of a report, as its footnotes.
"""
