"""The Celery app and tasks: they compose cachepolicy and models.

`celery -A tasks worker` finds the app in `tasks.celery` (Celery's own layout). Importing
`tasks` itself, or `tasks.client`, loads neither the task modules nor scikit-learn.
"""
