// Two browsers at once: a commander (Lãng Công) watches the incident list while an officer of
// a neighbouring commune (Quang Yên) records a cross-border incident through the form. The
// commander gets a toast and the new incident in the list without reloading the page.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

import { startServer } from './server.mjs';

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function signedIn(username, path, width) {
  const context = await browser.newContext({ viewport: { width, height: 900 }, locale: 'vi-VN' });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  await page.goto(`${server.base}/login?next=${encodeURIComponent(path)}`);
  await page.fill('#username', username);
  await page.fill('#password', 'demo');
  await Promise.all([page.waitForURL(`${server.base}${path}`), page.click('form button.primary')]);
  return page;
}

/** Vietnam wall-clock time `hoursAgo` hours ago, as an <input type=datetime-local> value. */
function vietnamTime(hoursAgo) {
  return new Date(Date.now() + (7 - hoursAgo) * 3600_000).toISOString().slice(0, 16);
}

test('a cross-border incident reaches the neighbouring commander live', async () => {
  const commander = await signedIn('commander', '/incidents', 1280);
  await commander.waitForSelector('#live-incidents table');
  // Wait until the live stream is open before the officer records anything.
  await commander.waitForFunction(() => document.body.dataset.live);
  await commander.waitForTimeout(1000);
  await commander.evaluate(() => { window.notReloaded = true; });

  const officer = await signedIn('officer', '/incidents/new', 390);
  const place = `Bến đò giáp ranh ${Date.now()}`;
  const commune = officer.locator('#commune_id option', { hasText: 'Quang Yên' });
  await commune.first().waitFor({ state: 'attached' });
  await officer.selectOption('#commune_id', await commune.first().getAttribute('value'));
  await officer.fill('#place', place);
  await officer.fill('#occurred_at', vietnamTime(2));
  await officer.fill('#reported_at', vietnamTime(1));
  await officer.selectOption('#category', 'criminal.theft');
  await officer.fill('#suspects', '2');
  await officer.check('#cross_border');
  // Sharing follows the cross-border box unless the officer set it.
  assert.equal(await officer.isChecked('#shared'), true);
  await Promise.all([
    officer.waitForURL(/\/incidents\/[0-9a-f-]{36}\?ok=incident-created$/),
    officer.click('form.incident-form button.primary'),
  ]);
  await officer.waitForSelector('.notice:has-text("Đã ghi vụ việc")');
  assert.ok(await officer.isVisible('.badge-cross'));

  // The commander sees the toast and the refreshed list, without a reload.
  const toast = commander.locator('.toast[role="status"]', { hasText: place });
  await toast.waitFor({ timeout: 10_000 });
  assert.match(await toast.innerText(), /Vụ việc mới trong cụm/);
  await commander.locator('#live-incidents td', { hasText: place }).waitFor({ timeout: 10_000 });
  assert.equal(await commander.evaluate(() => window.notReloaded), true);
  const row = commander.locator('#live-incidents tr', { hasText: place });
  assert.ok(await row.locator('.badge-cross').isVisible());

  await commander.context().close();
  await officer.context().close();
});

test('the demo cluster statistics by outcome match the five-year review', async () => {
  const page = await signedIn('coordinator', '/statistics', 1280);
  const cluster = page.locator('#s-cluster option', { hasText: 'Sông Lô – Sơn Dương' });
  await page.selectOption('#s-cluster', await cluster.getAttribute('value'));
  await page.fill('#s-from', '2015-07-03');
  await page.fill('#s-to', '2020-07-02');
  await page.selectOption('#s-g1', 'outcome');
  await page.uncheck('input[name="compare"]');
  await Promise.all([page.waitForURL(/g1=outcome/), page.click('.stats-form button.primary')]);
  const cells = async (label) =>
    (await page.locator('.stats-table tbody tr', { hasText: label }).locator('td').allInnerTexts())
      .map((t) => t.trim());
  const prosecuted = await cells('Truy cứu hình sự');
  assert.deepEqual([prosecuted[0], prosecuted[1]], ['99', '153']);
  const sanctioned = await cells('Xử lý hành chính');
  assert.deepEqual([sanctioned[0], sanctioned[2]], ['73', '116']);
  const none = await cells('Không xử lý');
  assert.deepEqual([none[0], none[3], none[4]], ['49', '3', '73']);
  assert.ok(await page.locator('figure.chart svg').isVisible());
  await page.context().close();
});
