"""Verifiable secret ballots for Kỳ họp: the scheme of docs/BALLOT-CRYPTO.md.

Its own package: it imports neither `meeting` nor `server`. The domain will see only "a ballot whose proofs
verified"; the server stores, adds and publishes; `python -m ballotcrypto.verify` checks a board offline.

    dkg      the key ceremony (a sans-I/O state machine per committee member) and its public checks
    ballots  rounds, encrypting and proving a ballot, verifying it, spoiling and auditing it
    tally    the aggregate, partial decryptions with proofs, their combination and the small discrete log
    board    building and checking a round's bulletin board
    verify   the offline verifier (CLI)
"""
