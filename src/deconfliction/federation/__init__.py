"""Federation: each party runs its own node, and nodes talk to each other.

One module per idea:

* :mod:`.certs`: the node's self-signed TLS certificate, fingerprints, and the TLS
  contexts that pin peers by fingerprint (mutual TLS, no certificate authority).
* :mod:`.node_dir`: the node's directory (``deconfliction node init``): its party,
  signing key, certificate, pinned peers and default store.
* :mod:`.peers`: who the peers are (from the protocols this node's party accepted)
  and which certificate each must present.
* :mod:`.agreement`: protocol versions agreed between nodes (offers, signed digests).
* :mod:`.link`: the links to the peers: pinning, sending, checking, their state.
* :mod:`.outbox`: the durable queue of what each peer is to be sent, in order.
* :mod:`.sharing`: a node's own tracks to its peers under ``full`` and ``plans``.
* :mod:`.referee`: the referee node for ``conflicts`` (and a node's side of it).

Single-server mode (no ``[nodes]`` in the protocol) uses none of this.
"""
