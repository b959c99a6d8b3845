"""Follow-up records (跟进记录): the activity log beside deals and stage history.

`model` (canonical frame), `layouts` (role synonyms, CRM detection), `ingest` (files -> linked
activities with a per-row report), `store` (the `activities` table), `rhythm` (silence against a
deal's own rhythm), `contacts` (main-contact changes), `features` (point-in-time features),
`reps` (rep activity).
"""
