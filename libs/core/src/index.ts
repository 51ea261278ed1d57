// Domain types and schemas: see issue 3 (job registry) and ARCHITECTURE.md §2-§3.
export {};
