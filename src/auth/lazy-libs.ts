// nkeys, the JWT library and bcrypt are loaded on first use, not at startup: together they cost ~45 ms of a
// server's start, and most servers (no nkey users, no JWTs, no bcrypt hashes) never need them. They are
// CommonJS packages, so a synchronous require() can load them at the point of use.
import { createRequire } from "node:module";
import type * as JwtLib from "@nats-io/jwt";
import type * as NkeysLib from "@nats-io/nkeys";
import type BcryptLib from "bcryptjs";

const require = createRequire(import.meta.url);

let nkeysLib: typeof NkeysLib | undefined;
let jwtLib: typeof JwtLib | undefined;
let bcryptLib: typeof BcryptLib | undefined;

export function nkeys(): typeof NkeysLib {
  nkeysLib ??= require("@nats-io/nkeys") as typeof NkeysLib;
  return nkeysLib;
}

export function jwt(): typeof JwtLib {
  jwtLib ??= require("@nats-io/jwt") as typeof JwtLib;
  return jwtLib;
}

export function bcrypt(): typeof BcryptLib {
  bcryptLib ??= require("bcryptjs") as typeof BcryptLib;
  return bcryptLib;
}
