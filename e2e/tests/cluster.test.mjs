// A coordinator admits a new member to their cluster, sees it on the membership timeline,
// switches the interface to English and signs out — in Debian's Chromium.
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

async function newPage(width = 390) {
  const context = await browser.newContext({ viewport: { width, height: 844 }, locale: 'vi-VN' });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  return page;
}

async function signIn(page, username) {
  await page.goto(`${server.base}/clusters`);
  // Not signed in: sent to the login page, which brings us back afterwards.
  assert.match(page.url(), /\/login\?next=\/clusters$/);
  assert.equal(await page.getAttribute('html', 'lang'), 'vi');
  await page.fill('#username', username);
  await page.fill('#password', 'demo');
  await Promise.all([page.waitForURL(`${server.base}/clusters`), page.click('form button.primary')]);
}

test('a coordinator admits a member and sees it on the timeline', async () => {
  const page = await newPage();
  await signIn(page, 'coordinator');

  await page.click('a:has-text("Sông Lô – Sơn Dương")');
  await page.waitForSelector('h1:has-text("Sông Lô – Sơn Dương")');
  const timeline = page.locator('#members .tl-list > li');
  const before = await timeline.count();
  assert.ok(before >= 2, 'the demo cluster has members');

  // The organisation search fills the select through htmx.
  await page.click('#add-member > summary');
  await page.fill('#m-org_q', 'Bồ Sao');
  const option = page.locator('#m-organisation_id option', { hasText: 'VLXD Bồ Sao' });
  await option.waitFor({ state: 'attached' });
  await page.selectOption('#m-organisation_id', await option.getAttribute('value'));
  await page.fill('#m-joined_on', '2024-03-15');
  await page.fill('#m-note', 'Kết nạp theo quy chế sửa đổi');
  await Promise.all([
    page.waitForURL(/ok=member-added/),
    page.click('#add-member button.primary'),
  ]);

  await page.waitForSelector('.notice:has-text("Đã thêm đơn vị thành viên.")');
  assert.equal(await timeline.count(), before + 1);
  const row = timeline.filter({ hasText: 'Công ty cổ phần VLXD Bồ Sao' });
  assert.match(await row.innerText(), /từ 15\/03\/2024/);
  assert.match(await row.innerText(), /đang là thành viên/);
  const bar = row.locator('.tl-bar');
  const style = await bar.getAttribute('style');
  assert.match(style, /left:\d+(\.\d+)?%;width:\d+(\.\d+)?%/);
  assert.ok(parseFloat(style.match(/left:([\d.]+)%/)[1]) > 50, 'a recent member starts late on the axis');

  // Members on a day: not yet on the 14th, a member on the 15th.
  await page.fill('#on-date', '2024-03-14');
  await Promise.all([page.waitForURL(/on=2024-03-14/), page.click('#on button')]);
  assert.doesNotMatch(await page.locator('#on').innerText(), /VLXD Bồ Sao/);
  await page.fill('#on-date', '2024-03-15');
  await Promise.all([page.waitForURL(/on=2024-03-15/), page.click('#on button')]);
  assert.match(await page.locator('#on').innerText(), /VLXD Bồ Sao/);

  // A join date before the founding is refused next to the field, keeping the input.
  await page.click('#add-member > summary');
  await page.fill('#m-org_q', 'Bồ Sao');
  await option.waitFor({ state: 'attached' });
  await page.selectOption('#m-organisation_id', await option.getAttribute('value'));
  await page.fill('#m-joined_on', '2001-01-01');
  await Promise.all([page.waitForLoadState('load'), page.click('#add-member button.primary')]);
  await page.waitForSelector('#add-member .field-error');
  assert.match(await page.locator('#add-member .field-error').first().innerText(), /trước ngày thành lập cụm/);
  assert.equal(await page.inputValue('#m-joined_on'), '2001-01-01');

  // English.
  await Promise.all([page.waitForLoadState('load'), page.click('header a.lang')]);
  await page.waitForSelector('h2:has-text("Membership over time")');
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.match(await page.locator('#members').innerText(), /current member/);
  assert.match(await page.locator('nav.nav').innerText(), /Clusters/);

  // Sign out.
  await Promise.all([page.waitForURL(/\/login$/), page.click('header button:has-text("Sign out")')]);
  await page.waitForSelector('h1:has-text("Sign in")');
  await page.goto(`${server.base}/`);
  assert.match(page.url(), /\/login/);
});

test('an officer sees the cluster but no editing forms, and no audit log', async () => {
  const page = await newPage(1280);
  await signIn(page, 'officer');
  await page.click('.rtable a >> nth=0');
  await page.waitForSelector('#members');
  assert.equal(await page.locator('#add-member').count(), 0);
  assert.equal(await page.locator('nav.nav a[href="/audit"]').count(), 0);
  const response = await page.goto(`${server.base}/audit`);
  assert.equal(response.status(), 403);
  assert.match(await page.locator('main').innerText(), /không được phép/);
});
