// Errors the simulated appliance answers with. DSM sends error bodies as plain text and clients
// compare some of them literally (dsm-api.md §1), so vendor wording is kept exactly where it is
// known; where the sources record no wording, the text is the simulator's own and says so.

export class DsmError extends Error {
  constructor(readonly status: number, message: string, readonly headers: Record<string, string> = {}) {
    super(message)
    this.name = 'DsmError'
  }
}

// Vendor wording, from public clients (dsm-api.md §1, §6.2).
export const APPROVAL_REQUIRED = 'This operation requires approval'
export const SOBJECT_EXISTS = 'sobject already exists'
export const SOBJECT_MISSING = 'sobject does not exist'
export const ACCOUNT_NOT_SELECTED = 'This operation requires an account to be selected'
export const OP_NOT_ALLOWED = 'Requested operation is not allowed'

export const badRequest = (msg: string) => new DsmError(400, msg)
export const unauthorized = (msg: string) => new DsmError(401, msg)
export const forbidden = (msg: string) => new DsmError(403, msg)
export const notFound = (msg: string) => new DsmError(404, msg)
export const conflict = (msg: string) => new DsmError(409, msg)

export const approvalRequired = () => forbidden(APPROVAL_REQUIRED)
export const sobjectMissing = () => notFound(SOBJECT_MISSING)
export const keyOpNotAllowed = (name: string | null, op: string) =>
  forbidden(`${OP_NOT_ALLOWED}: key ${JSON.stringify(name)} does not have ${op} in its key_ops`)
