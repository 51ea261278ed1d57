// Integration tests talk to real services; their own deadlines (waitFor) say what was slow.
jest.setTimeout(30_000);
