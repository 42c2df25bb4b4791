"""How it runs on a laptop: the local stack (`xray-signup up`), embedded AWS (moto), the fault
proxy and its scenarios (`faults/`), the log shipper, and the child processes they manage."""
