// Takes the README's screenshots from a running Gatehouse (default
// http://127.0.0.1:8000) in Debian's Chromium, signing in as the user given.
//   npm i playwright-core   (no browser download; uses /usr/bin/chromium)
//   node scripts/screenshots.mjs EMAIL PASSWORD [BASE_URL] [OUT_DIR]
import { chromium } from "playwright-core";

const [email, password, base = "http://127.0.0.1:8000", out = "docs/screenshots"] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const page = await browser.newPage({ viewport: { width: 1100, height: 700 } });
await page.goto(`${base}/protected`);
await page.fill("#email", email);
await page.fill("#password", "wrong password");
await page.click("button[type=submit]");
await page.screenshot({ path: `${out}/login-error.png` });
await page.fill("#password", password);
await page.check("#remember");
await page.click("button[type=submit]");
await page.waitForURL(`${base}/protected`);
await page.screenshot({ path: `${out}/protected.png` });
await page.goto(`${base}/items`);
await page.fill("#name", "Brass lamp");
await page.fill("#description", "Made by the tests' screenshot script");
await page.click("form[action='/items'] button[type=submit]");
await page.goto(`${base}/items`);
await page.screenshot({ path: `${out}/items.png` });
await page.goto(`${base}/protected`);
await page.setViewportSize({ width: 390, height: 760 });
await page.screenshot({ path: `${out}/protected-phone.png` });
await browser.close();
