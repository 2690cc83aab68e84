// Seals with alliance::crypto::hpke (hpke_tool) and opens with @hpke/core, and the
// reverse, for all three AEADs; compares plaintexts and exported secrets, and checks that
// tampered input is refused on both sides. Usage: node interop.mjs <path/to/hpke_tool>
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { Aes128Gcm, Aes256Gcm, CipherSuite, HkdfSha256 } from "@hpke/core";
import { DhkemX25519HkdfSha256 } from "@hpke/dhkem-x25519";
import { Chacha20Poly1305 } from "@hpke/chacha20poly1305";

const tool = process.argv[2];
if (!tool) throw new Error("usage: node interop.mjs <hpke_tool>");

const hex = (b) => (b.length === 0 ? "-" : Buffer.from(b).toString("hex"));
const unhex = (s) => (s === "-" ? new Uint8Array() : new Uint8Array(Buffer.from(s, "hex")));
const run = (...args) => execFileSync(tool, args, { encoding: "utf8" }).trim().split(" ");
const runFails = (...args) => {
  try {
    execFileSync(tool, args, { stdio: "pipe" });
    return false;
  } catch {
    return true;
  }
};
const equal = (a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
const exporterContext = new TextEncoder().encode("interop");

const aeads = { 1: () => new Aes128Gcm(), 2: () => new Aes256Gcm(), 3: () => new Chacha20Poly1305() };
let checks = 0;
const failures = [];
const check = (ok, what) => {
  checks++;
  if (!ok) failures.push(what);
};

for (const [id, makeAead] of Object.entries(aeads)) {
  const suite = new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: makeAead() });
  const cases = [
    { info: new Uint8Array(), aad: new Uint8Array(), pt: new Uint8Array() },
    { info: randomBytes(23), aad: randomBytes(40), pt: randomBytes(32) },
    { info: new TextEncoder().encode("alliance-message-key-v1"), aad: randomBytes(70), pt: randomBytes(1000) },
  ];
  for (const [n, c] of cases.entries()) {
    const tag = `aead ${id} case ${n}`;

    // C++ seals, Node opens.
    const [skHex, pkHex] = run("keygen");
    const [encHex, ctHex, cppExport] = run("seal", id, pkHex, hex(c.info), hex(c.aad), hex(c.pt));
    const recipientKey = await suite.kem.importKey("raw", unhex(skHex).buffer, false);
    const recipient = await suite.createRecipientContext({ recipientKey, enc: unhex(encHex).buffer, info: c.info });
    const opened = new Uint8Array(await recipient.open(unhex(ctHex), c.aad));
    check(equal(opened, c.pt), `${tag}: C++ -> Node plaintext`);
    check(equal(new Uint8Array(await recipient.export(exporterContext, 32)), unhex(cppExport)),
          `${tag}: C++ -> Node exported secret`);
    const tampered = unhex(ctHex);
    tampered[0] ^= 1;
    const fresh = await suite.createRecipientContext({ recipientKey, enc: unhex(encHex).buffer, info: c.info });
    let refused = false;
    try {
      await fresh.open(tampered, c.aad);
    } catch {
      refused = true;
    }
    check(refused, `${tag}: Node refuses a tampered C++ ciphertext`);

    // Node seals, C++ opens.
    const pair = await suite.kem.generateKeyPair();
    const sk = new Uint8Array(await suite.kem.serializePrivateKey(pair.privateKey));
    const sender = await suite.createSenderContext({ recipientPublicKey: pair.publicKey, info: c.info });
    const ct = new Uint8Array(await sender.seal(c.pt, c.aad));
    const nodeExport = new Uint8Array(await sender.export(exporterContext, 32));
    const enc = new Uint8Array(sender.enc);
    const [ptHex, cppExport2] = run("open", id, hex(sk), hex(c.info), hex(c.aad), hex(enc), hex(ct));
    check(equal(unhex(ptHex), c.pt), `${tag}: Node -> C++ plaintext`);
    check(equal(unhex(cppExport2), nodeExport), `${tag}: Node -> C++ exported secret`);
    const otherAad = hex(new Uint8Array([...c.aad, 0]));
    check(runFails("open", id, hex(sk), hex(c.info), otherAad, hex(enc), hex(ct)),
          `${tag}: C++ refuses a Node ciphertext under another aad`);
  }
}

if (failures.length > 0) {
  console.error(`hpke interop: ${failures.length} of ${checks} checks FAILED:\n  ${failures.join("\n  ")}`);
  process.exit(1);
}
console.log(`hpke interop: all ${checks} checks passed (C++ <-> @hpke/core, AEADs 1, 2, 3)`);
