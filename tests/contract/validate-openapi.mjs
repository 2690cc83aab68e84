// Validates the OpenAPI document the build wrote (tools/openapi-gen) with a standard
// validator (@apidevtools/swagger-parser: the OpenAPI 3.0 schema, $refs, path
// parameters), then checks what a client of the API relies on.
// Usage: node validate-openapi.mjs path/to/openapi.json
import { readFileSync } from 'node:fs';
import SwaggerParser from '@apidevtools/swagger-parser';

const file = process.argv[2];
const read = () => JSON.parse(readFileSync(file, 'utf8'));
const fail = (why) => {
  console.error(`openapi.json: ${why}`);
  process.exit(1);
};

try {
  await SwaggerParser.validate(read());
} catch (e) {
  fail(`not a valid OpenAPI 3 document: ${e.message}`);
}

const doc = read();
if (!doc.openapi.startsWith('3.')) fail(`openapi is ${doc.openapi}, expected 3.x`);
const methods = ['get', 'put', 'post', 'delete', 'patch'];
let operations = 0;
for (const [path, item] of Object.entries(doc.paths)) {
  for (const m of methods.filter((m) => item[m])) {
    operations++;
    const op = item[m];
    const where = `${m.toUpperCase()} ${path}`;
    // swagger-parser checks path parameters for Swagger 2 only: every "{name}" of the
    // template must be a declared, required path parameter, and nothing more.
    const inTemplate = [...path.matchAll(/\{([^}]+)\}/g)].map((x) => x[1]).sort();
    const declared = (op.parameters ?? []).filter((p) => p.in === 'path');
    if (JSON.stringify(declared.map((p) => p.name).sort()) !== JSON.stringify(inTemplate))
      fail(`${where} declares path parameters [${declared.map((p) => p.name)}], its template has [${inTemplate}]`);
    if (declared.some((p) => p.required !== true)) fail(`${where} has a path parameter that is not required`);
    // Each route says what it does: its RPC's name, and its .proto comment (the build
    // hands openapi-gen the descriptors with source info).
    if (!op.summary?.trim()) fail(`${where} has no summary`);
    if (!op.description?.trim()) fail(`${where} has no description: comment its RPC or request message in the .proto`);
    const codes = Object.keys(op.responses);
    if (!codes.some((c) => c.startsWith('2'))) fail(`${where} has no success status`);
    for (const c of ['400', '403', '404', '409', '429', '503'])
      if (op.responses[c]?.$ref !== `#/components/responses/Error${c}`) fail(`${where} lacks the ${c} error reply`);
  }
}
const error = doc.components.schemas.Error?.properties?.error?.properties ?? {};
for (const f of ['code', 'message', 'field', 'request_id']) if (!error[f]) fail(`the error shape lacks error.${f}`);

// A few facts a client would notice if they were wrong.
const login = doc.paths['/v1/auth/login']?.post;
if (!login || !Array.isArray(login.security) || login.security.length !== 0) fail('POST /v1/auth/login must need no token');
if (doc.paths['/v1/me']?.get?.security !== undefined) fail('GET /v1/me must use the document-wide bearer token');
if (!doc.paths['/v1/practices']?.post?.responses['201']) fail('POST /v1/practices must answer 201');
const feed = doc.paths['/v1/calendars/{feed_token}.ics']?.get;
if (!feed?.parameters?.some((p) => p.in === 'path' && p.name === 'feed_token')) fail('the calendar feed lacks {feed_token}');
const practice = doc.components.schemas['alliance.identity.v1.Practice']?.properties ?? {};
if (practice.created_unix_ms?.type !== 'string') fail('int64 fields must be strings (Practice.created_unix_ms)');
// The .proto comments reach the document: a route's, a message's and a field's.
if (!doc.paths['/v1/appointments']?.post?.description?.includes('front desk'))
  fail('POST /v1/appointments lacks its .proto comment as description');
const appointment = doc.components.schemas['alliance.scheduling.v1.Appointment'];
if (!appointment?.properties?.video_link?.description?.includes('client and the therapist'))
  fail('alliance.scheduling.v1.Appointment lacks its .proto comments as descriptions');

console.log(`openapi.json: valid OpenAPI ${doc.openapi}, ${Object.keys(doc.paths).length} paths, ${operations} operations`);
