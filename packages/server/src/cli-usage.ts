/** A mistake in how a `hindsight` command was called: its message, the usage, exit code 2. */
export class UsageError extends Error {}
