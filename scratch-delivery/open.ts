import { openTestDatabase } from '../test/support/database.ts';
let t = Date.now();
const db = await openTestDatabase();
console.log('open+migrate', Date.now() - t); t = Date.now();
await db.close();
console.log('close', Date.now() - t);
