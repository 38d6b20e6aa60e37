"""The branch's records (台账) and the self-inspection (自查) over them.

    ledger.Ledger(db)            activities: add / list / remove / import_file / export
    candidates.Candidates(db)    发展党员: add / list / remove / import_file / export / check(as_of)
    selfcheck.self_check(...)    findings (missing / slipping / quorum / order), due, counts
    selfcheck.duty_status(...)   for the planner: per duty of obligations.yaml and period, done dates / overdue
    progress.branch_progress(…)  that over the ledger, for the checklist (已完成/已逾期) and the planner
    report.write_report(...)     the self-check as 公文 .docx, .xlsx (findings, counts) or .md
    rules                        knowledge/ledger_rules.yaml and knowledge/development_rules.yaml

``db`` is an ``assistant.appdb.Database`` (``App.db``); the checks are pure functions of the records.
"""
