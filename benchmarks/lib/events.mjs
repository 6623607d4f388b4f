// A typical ~1 KB federation PDU (room version 10 m.room.member join), used by several suites.
export const memberEvent = {
  auth_events: [
    '$J2Fj2s9TB9j6qjLhzNsJ1gFxr4YnhP4dM1bJm3mC1wQ',
    '$Xm0vV4g8hVd3pWvsmxNn1c0Zq6dHb9bCq2qfO1UhF2E',
    '$k3fQ7e0pRkYc4VvA0bM1sJt3uT9yWm2eKq8rL6nX5zA',
  ],
  content: {
    avatar_url: 'mxc://example.org/SEsfnsuifSDFSSEF',
    displayname: 'Alice Margatroid 🦋',
    membership: 'join',
    reason: 'Joining to discuss the quarterly federation report',
  },
  depth: 1234,
  hashes: { sha256: 'thishashcoversallfieldsincasethisisredactedsothaty' },
  origin: 'example.org',
  origin_server_ts: 1716312345678,
  prev_events: ['$Qm3s0b1n4Vc9eLzP7uJt2yXw5kA8dHf6gR1oT3iE0pU'],
  room_id: '!aBcDeFgHiJkLmNoPqR:example.org',
  sender: '@alice:example.org',
  signatures: {
    'example.org': {
      'ed25519:key_version': 'these86bytesofbase64signaturecoveressentialfieldsincludinghashessocancheckredactedpdus',
    },
    'other.example.com': {
      'ed25519:a_Xyz': 'KqmLSbO39/Bzb0QIYE82zqLwsA+PDzYIpIRA2sRQ4sL53+sN6/fpNSoqE7BP7vBZhG6kYdD13EIMJpvhJI+6Bw',
    },
  },
  state_key: '@alice:example.org',
  type: 'm.room.member',
  unsigned: {
    age: 4612,
    prev_content: { displayname: 'Alice', membership: 'invite' },
    prev_sender: '@bob:example.org',
    replaces_state: '$Zx9w8v7u6t5s4r3q2p1o0n9m8l7k6j5i4h3g2f1e0dC',
  },
};
