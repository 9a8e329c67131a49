"""``syncframe worker``: connector runs through a PostgreSQL job queue (Procrastinate).

Any number of workers, on any number of machines, share the runs of every
connector registered in one PostgreSQL state store:

- :mod:`.database` derives Procrastinate's connection from the state URL and
  refuses anything that is not PostgreSQL;
- :mod:`.schedule` decides which connectors are due, from their run history and
  ``serve``'s back-off rule;
- :mod:`.tasks` builds the Procrastinate app: the run task (``lock`` and
  ``queueing_lock`` = the connector's name) and the periodic dispatch that defers
  due runs and retries the jobs of workers whose heartbeat stopped;
- :mod:`.process` runs one worker until SIGTERM, reconnecting after a lost database;
- :mod:`.listing` lists the jobs for ``syncframe jobs``.

Procrastinate and psycopg 3 are an optional extra (``pip install 'syncframe[worker]'``);
nothing here is imported by the rest of syncframe.
"""
