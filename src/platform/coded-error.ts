/**
 * A refusal of domain logic that callers tell apart by a code, never by its message: each page words the code in
 * the reader's language. Each area declares its own subclass, so that `instanceof` says whose refusal it is.
 */
export class CodedError<Code extends string> extends Error {
  constructor(readonly code: Code) {
    super(code);
    this.name = new.target.name;
  }
}
