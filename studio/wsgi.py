from __future__ import annotations

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
application = get_wsgi_application()

# The cyclic collector, tuned for a server: what was loaded to start is never garbage (frozen,
# so no collection walks it again), and a collection comes after 50,000 new objects instead
# of 700. An editor request at 10,000 streams makes some 10^5 objects, almost none cyclic:
# with the defaults, each request paid for several collections, a full one every few.
gc.freeze()
gc.set_threshold(50_000, 20, 10)
