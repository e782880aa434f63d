/** A problem in what the operator asked for: shown as one line, exit status 2. */
export class OperatorError extends Error {}
