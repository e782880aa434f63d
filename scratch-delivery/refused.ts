import nodemailer from 'nodemailer';
const t = nodemailer.createTransport({ pool: true, url: 'smtp://127.0.0.1:1', maxConnections: 2, connectionTimeout: 15000, greetingTimeout: 15000, socketTimeout: 30000 });
for (let i = 0; i < 3; i++) {
  const s = Date.now();
  try { await t.sendMail({ from: 'a@b.c', to: 'd@e.f', subject: 'x', text: 'y' }); } catch (e: any) { console.log(Date.now() - s, e.code, e.message, e.responseCode); }
}
t.close();
