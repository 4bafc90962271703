"""The console in a real browser: headless Chromium driven by Selenium against a running geo-cli serve.

    console-browser.py BASE_URL TOKEN ARTEFACTS_DIR WORKER_TOKEN PLANNER_TOKEN PROPOSAL COMMUNITY

Waits until the map has rendered grid tiles (map.queryRenderedFeatures, not the DOM), clicks a point inside a
rendered grid and checks that the panel shows the grid code /locate gives for the clicked place (and the grid
the map rendered there); signs in with TOKEN and checks the role shown; switches to Chinese and checks that no
interface string is left in English; on a phone (390×844, an emulated position), a grid worker (WORKER_TOKEN, scoped
to the grid at the map's centre) reports at its position and closes a case at source. Saves a screenshot of each
view in ARTEFACTS_DIR. A planner (PLANNER_TOKEN) uploads PROPOSAL (a split of a grid), sees its findings and impact
as the API gives them, applies it, sees the new boundary rendered, and rolls it back; then, in COMMUNITY, drags a
vertex two grids share on the map (and checks snapping, undo, a keyboard nudge and an added vertex), sends the moved
grids as a plan, applies it, and sees the ground that changed hands rendered in its new grid (shapely is the
oracle for seamlessness). Prints one line per check; exits non-zero at the first failure.
"""
import json
import math
import os
import re
import sys
import time
import urllib.parse
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.actions.action_builder import ActionBuilder
from selenium.webdriver.common.keys import Keys
from shapely.geometry import Point, shape
from shapely.ops import polylabel, unary_union
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

base, token, artefacts, worker_token, planner_token, proposal, community = sys.argv[1:8]


def api(path, token=None):
    request = urllib.request.Request(base + path, headers={"Authorization": "Bearer " + token} if token else {})
    with urllib.request.urlopen(request) as r:
        return json.load(r)
os.makedirs(artefacts, exist_ok=True)


def fail(message):
    print("FAIL " + message)
    sys.exit(1)


def browser(size="1366,768"):
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=" + size,
                 "--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--lang=en-US"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def tab_walk(driver, view, limit=900):
    # Usable by keyboard: Tab alone, from the top of the page, reaches every control shown (each is focused once).
    # A control is known by its id, or on the board by its case and what it does: the board is redrawn at events.
    total = driver.execute_script(
        "window.__key = e => { const li = e.closest('#cases li[data-id]'); return e.id || (li ? li.dataset.id + '/' + (e.dataset.to || e.className || e.tagName) : e.outerHTML); };"
        "window.__controls = [...document.querySelectorAll('header button, header input, header select, #panel button, #panel input,"
        " #panel select, #panel textarea, #panel a[href]')].filter(e => e.offsetParent !== null && !e.disabled).map(window.__key);"
        "window.__seen = new Set(); document.addEventListener('focusin', e => window.__seen.add(window.__key(e.target)), true);"
        "document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); return window.__controls.length;")
    missing = total
    for presses in range(1, limit + 1):
        ActionChains(driver).send_keys(Keys.TAB).perform()
        if presses % 25 == 0:
            missing = driver.execute_script("return window.__controls.filter(k => !window.__seen.has(k)).length;")
            if missing == 0:
                break
    left = driver.execute_script("return window.__controls.filter(k => !window.__seen.has(k)).map(k => k.slice(0, 80));")
    if left:
        fail(f"{view}: {len(left)} of {total} controls never reached by Tab: {left[:8]}")
    print(f"ok keyboard: in the {view} view Tab reaches all {total} controls shown ({presses} presses)")


def wait_for_tiles(driver):
    # Rendered grid features, as MapLibre drew them from our tiles: a blank map never passes.
    WebDriverWait(driver, 60, poll_frequency=0.25).until(lambda d: d.execute_script(
        "const m = window.geogrid && window.geogrid.map;"
        "return !!m && m.loaded() && m.queryRenderedFeatures({layers: ['grids-fill']}).length > 0;"))


driver = browser()
try:
    driver.get(base + "/console?lang=en")
    wait_for_tiles(driver)
    rendered = driver.execute_script("return window.geogrid.map.queryRenderedFeatures({layers: ['grids-fill']}).length;")
    print(f"ok map rendered {rendered} grid features")

    # A pixel well inside a rendered grid: the centre of the canvas's grid found at its middle.
    canvas = driver.find_element(By.CSS_SELECTOR, "#map canvas")
    width, height = canvas.size["width"], canvas.size["height"]
    x, y = width // 2, height // 2
    at = driver.execute_script(
        "const m = window.geogrid.map; const p = [arguments[0], arguments[1]];"
        "const f = m.queryRenderedFeatures(p, {layers: ['grids-fill']});"
        "const ll = m.unproject(p); return {code: f.length ? f[0].properties.code : null, lon: ll.lng, lat: ll.lat};", x, y)
    ActionChains(driver).move_to_element_with_offset(canvas, x - width // 2, y - height // 2).click().perform()
    with urllib.request.urlopen(f"{base}/locate?lon={at['lon']:.7f}&lat={at['lat']:.7f}") as r:
        located = json.load(r)
    expected = located["grid"]["code"] if located.get("grid") else None
    if expected is None:
        fail(f"the middle of the map ({at}) is in no grid: the demo city should be there")
    WebDriverWait(driver, 10).until(lambda d: d.find_element(By.ID, "panel").get_attribute("data-grid-code") != None
                                    and d.find_element(By.ID, "panel").get_attribute("data-grid-code") != "")
    shown = driver.find_element(By.ID, "grid-code").text
    if shown != expected:
        fail(f"the panel shows grid {shown!r}; /locate gives {expected!r} at {at}")
    if at["code"] != expected:
        fail(f"the map rendered grid {at['code']!r} there; /locate gives {expected!r}")
    nearest = driver.find_elements(By.CSS_SELECTOR, "#nearest li")
    lines = driver.execute_script("const s = window.geogrid.map.getSource('geogrid-nearest'); return s ? s._data.features.length : 0;")
    if not nearest or lines != len(nearest):
        fail(f"{len(nearest)} nearest resources listed, {lines} lines drawn")
    print(f"ok clicked grid {shown} (as /locate and the rendered tile say); {len(nearest)} nearest resources listed and drawn")
    # The access roads: the roads /around finds at the panel's point, highlighted (rendered) on the map.
    where = driver.find_element(By.ID, "panel").get_attribute("data-at")
    roads = {f["id"] for f in api(f"/around?{where}&radius=200")["features"] if f["properties"]["layer"] == "roads"}
    drawn_roads = set(driver.execute_script("const s = window.geogrid.map.getSource('geogrid-access'); return s ? s._data.features.map(f => f.id) : [];"))
    WebDriverWait(driver, 10, poll_frequency=0.25).until(lambda d: d.execute_script(
        "return window.geogrid.map.loaded() && window.geogrid.map.queryRenderedFeatures({layers: ['geogrid-access']}).length > 0;"))
    rendered_roads = set(driver.execute_script("return window.geogrid.map.queryRenderedFeatures({layers: ['geogrid-access']}).map(f => f.id);"))
    if not roads or drawn_roads != roads or not rendered_roads <= roads:
        fail(f"access roads: /around has {len(roads)}, the map's source {len(drawn_roads)}, rendered {len(rendered_roads)} not all among them")
    # A hydrant out of service (the test marked the one nearest the map's centre): marked in the list and on the map.
    listed_out = driver.execute_script("return [...document.querySelectorAll('#nearest li')].filter(li => li.dataset.status === 'out_of_service').map(li => li.textContent);")
    if not listed_out or not all(window_text.endswith("out of service") for window_text in listed_out):
        fail(f"no nearest resource marked out of service: {[li.text for li in nearest]}")
    stroke = json.dumps(driver.execute_script("return window.geogrid.map.getPaintProperty('resources', 'circle-stroke-color');"))
    rendered_out = driver.execute_script("return window.geogrid.map.queryRenderedFeatures({layers: ['resources']}).filter(f => f.properties.status === 'out_of_service').length;")
    if "out_of_service" not in stroke or rendered_out == 0:
        fail(f"the map does not mark resources out of service (stroke {stroke}, {rendered_out} rendered)")
    print(f"ok access roads: {len(roads)} roads around highlighted as /around finds them; {len(listed_out)} resource out of service marked in the list and on the map")
    driver.save_screenshot(os.path.join(artefacts, "dispatcher-en.png"))

    # Sign in: the token's role is shown; a bad token is refused with a message.
    field = driver.find_element(By.ID, "token")
    field.send_keys("not-a-token")
    driver.find_element(By.CSS_SELECTOR, "#signin button").click()
    WebDriverWait(driver, 10).until(lambda d: d.find_element(By.ID, "error").is_displayed())
    field.clear()
    field.send_keys(token)
    driver.find_element(By.CSS_SELECTOR, "#signin button").click()
    WebDriverWait(driver, 10).until(lambda d: d.find_element(By.ID, "whoami").is_displayed())
    who = driver.find_element(By.ID, "who").text
    if "dispatcher" not in who:
        fail(f"signed in as {who!r}: the role is not shown")
    print(f"ok signed in: {who}")

    # Search by keyboard alone: type a grid's code, Enter; the first result takes the focus; Enter on it shows
    # that grid in the panel. An address found the same way shows the grid /locate gives at the result's point.
    from selenium.webdriver.common.keys import Keys
    for text, kind in ((expected, "grid"), ("Mannerheimintie 3", "building")):
        box = driver.find_element(By.ID, "search-text")
        box.clear()
        box.send_keys(text + Keys.ENTER)
        WebDriverWait(driver, 10).until(lambda d: d.execute_script(
            "const a = document.activeElement; return a && a.closest('#search-results') && a.dataset.kind;") == kind)
        answer = api("/search?limit=8&q=" + urllib.parse.quote(text))["results"][0]
        focused = driver.execute_script("return [document.activeElement.dataset.kind, Number(document.activeElement.dataset.id)];")
        if focused != [answer["kind"], answer["id"]]:
            fail(f"the focused result is {focused}; /search puts {answer['kind']} {answer['id']} first")
        driver.switch_to.active_element.send_keys(Keys.ENTER)
        with urllib.request.urlopen(f"{base}/locate?lon={answer['lon']:.7f}&lat={answer['lat']:.7f}") as r:
            there = json.load(r)["grid"]["code"]
        if kind == "grid" and there != expected:
            fail(f"the grid {expected} found by search lies in {there} by /locate")
        WebDriverWait(driver, 10).until(lambda d: d.find_element(By.ID, "grid-code").text == there)
        print(f"ok search by keyboard: {text!r} → {answer['kind']} {answer['label']}, panel shows grid {there}")
    driver.save_screenshot(os.path.join(artefacts, "dispatcher-search.png"))
    driver.execute_script("window.geogrid.showSituation(arguments[0]);", {"lng": at["lon"], "lat": at["lat"]})
    WebDriverWait(driver, 10).until(lambda d: d.find_element(By.ID, "grid-code").text == expected)

    # A case reported here (clicked point, category, floor, description) reaches a second console through /events
    # within 2 s, on its map and its board; a transition made here moves it there too.
    watcher = browser()
    try:
        watcher.get(base + "/console?lang=en")
        WebDriverWait(watcher, 60, poll_frequency=0.25).until(lambda d: d.execute_script("return !!(window.geogrid && window.geogrid.ready);"))
        WebDriverWait(driver, 20).until(lambda d: d.execute_script("return !!(window.geogrid && window.geogrid.ready);"))
        form = driver.find_element(By.ID, "report")
        if not form.is_displayed():
            fail("a dispatcher who clicked the map is not offered the report form")
        driver.execute_script("document.getElementById('report-category').value = 'fire';")
        driver.find_element(By.ID, "report-floor").send_keys("3")
        driver.find_element(By.ID, "report-description").send_keys("smoke from a third-floor window")
        form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        WebDriverWait(driver, 10).until(lambda d: d.find_element(By.ID, "report-done").get_attribute("data-case-id"))
        reported = time.monotonic()
        case_id = int(driver.find_element(By.ID, "report-done").get_attribute("data-case-id"))
        with urllib.request.urlopen(f"{base}/incidents/{case_id}") as r:
            stored = json.load(r)
        if stored["properties"]["grid_code"] != expected or stored["properties"]["floor"] != 3:
            fail(f"the case was stored in grid {stored['properties']['grid_code']} floor {stored['properties']['floor']}; clicked grid {expected}, floor 3")
        WebDriverWait(watcher, 2, poll_frequency=0.05).until(lambda d: d.execute_script(
            "return window.geogrid.map.queryRenderedFeatures({layers: ['geogrid-cases']}).some(f => f.id === arguments[0]);", case_id))
        seen = time.monotonic() - reported
        if not watcher.execute_script("return !!document.querySelector(`#cases li[data-id='${arguments[0]}']`);", case_id):
            fail(f"case {case_id} is on the other console's map but not on its board")
        print(f"ok case {case_id} reported in grid {expected}; on the other console's map and board {seen:.2f} s later")
        # The other console is anonymous: no report form, no transition buttons, no worker's phone.
        watcher.execute_script("window.geogrid.showSituation(arguments[0]);", {"lng": at["lon"], "lat": at["lat"]})
        WebDriverWait(watcher, 10).until(lambda d: d.find_element(By.ID, "grid-code").text == expected)
        offered = watcher.execute_script("return [document.getElementById('report').offsetParent !== null, document.querySelectorAll('#cases button:not(.history)').length,"
                                         " document.getElementById('grid-worker').textContent];")
        if offered[0] or offered[1] or "+" in offered[2]:
            fail(f"an anonymous console is offered writes or personal fields: form shown {offered[0]}, {offered[1]} buttons, worker {offered[2]!r}")
        driver.save_screenshot(os.path.join(artefacts, "dispatcher-reported.png"))

        # The board is drawn anew as events come: found and clicked in one step, never held across a redraw.
        WebDriverWait(driver, 5).until(lambda d: d.execute_script(
            "const b = document.querySelector(`#cases li[data-id='${arguments[0]}'] button[data-to='registered']`);"
            "if (b) { b.click(); return true; } return false;", case_id))
        WebDriverWait(watcher, 5, poll_frequency=0.1).until(lambda d: d.execute_script(
            "const li = document.querySelector(`#cases li[data-id='${arguments[0]}']`); return li && li.dataset.stage;", case_id) == "registered")
        with urllib.request.urlopen(f"{base}/incidents/{case_id}") as r:
            if json.load(r)["properties"]["stage"] != "registered":
                fail("the store does not hold the transition the console made")
        print("ok transition to registered made here, seen on the other console")
        # The case's history, as the API keeps it: one line per transition, newest last, dates in the locale.
        WebDriverWait(driver, 5).until(lambda d: d.execute_script(
            "const b = document.querySelector(`#cases li[data-id='${arguments[0]}'] button.history`); if (b) { b.click(); return true; } return false;", case_id))
        kept = [h["to"] for h in api(f"/incidents/{case_id}")["history"]]
        WebDriverWait(driver, 5).until(lambda d: d.execute_script("return [...document.querySelectorAll('#case-history li')].map(li => li.dataset.to);") == kept)
        if kept != ["reported", "registered"]:
            fail(f"the case's history is {kept}")
        print(f"ok history of case {case_id}: {' → '.join(kept)}")

        # Overdue lists by department and by grid, and the month's statistics as a table and a chart, as the API has them.
        def listed_overdue():
            return driver.execute_script("return [...document.querySelectorAll('#overdue li[data-key]')].map(li => [li.dataset.key, Number(li.dataset.count)]);")
        for by in ("department", "grid"):
            driver.execute_script("const s = document.getElementById('overdue-by'); s.value = arguments[0]; s.dispatchEvent(new Event('change'));", by)
            groups = [[g["key"], g["count"]] for g in api(f"/incidents/overdue?by={by}")["groups"]]
            WebDriverWait(driver, 10).until(lambda d: listed_overdue() == groups)
            if not groups:
                fail(f"no overdue case by {by}: the demo week should have some")
            print(f"ok overdue by {by}: {len(groups)} groups, {sum(c for _, c in groups)} cases, as /incidents/overdue")
        month = driver.execute_script("return document.getElementById('stats-period').value;")
        stats = api(f"/incidents/stats?period={month}&by=department")
        rows = [r for r in stats["rows"] if r["received"] or r["closed"] or r["overdue_now"]]
        def chart():
            return driver.execute_script("return [...document.querySelectorAll('#stats-chart rect')].map(r => [r.getAttribute('class'), r.dataset.key, Number(r.dataset.value)]);")
        expected_bars = [b for r in rows for b in (["received", r["key"], r["received"]], ["on-time", r["key"], r["closed_on_time"]])]
        WebDriverWait(driver, 10).until(lambda d: d.execute_script("return [...document.querySelectorAll('#stats tbody tr')].map(tr => tr.dataset.key);") == [r["key"] for r in rows] and chart() == expected_bars)
        if not rows:
            fail(f"no statistics for {month}")
        csv = driver.find_element(By.ID, "stats-csv").get_attribute("href")
        with urllib.request.urlopen(csv) as r:
            if not r.headers["Content-Type"].startswith("text/csv"):
                fail(f"the CSV link {csv} gives {r.headers['Content-Type']}")
        print(f"ok statistics of {month}: {len(rows)} departments in the table and {len(expected_bars)} bars, as /incidents/stats; CSV linked")
        driver.save_screenshot(os.path.join(artefacts, "dispatcher-reports.png"))
        tab_walk(driver, "dispatcher")
        watcher.save_screenshot(os.path.join(artefacts, "watcher-board.png"))
    finally:
        watcher.quit()

    # Chinese: every interface string (each element the console labels) has no Latin letters left, but for the
    # button that offers English, which names English in English, and the names GeoGrid and GeoJSON.
    driver.find_element(By.ID, "lang").click()
    WebDriverWait(driver, 10).until(lambda d: d.execute_script("return document.documentElement.lang") == "zh-CN")
    WebDriverWait(driver, 10).until(lambda d: "调度员" in d.find_element(By.ID, "who").text)
    labels = driver.execute_script(
        "return [...document.querySelectorAll('[data-i18n]')].map(e => [e.dataset.i18n, e.textContent])"
        ".concat([['title', document.title]])"
        ".concat([...document.querySelectorAll('[data-i18n-placeholder]')].map(e => [e.dataset.i18nPlaceholder, e.placeholder]))"
        ".concat([...document.querySelectorAll('#search-results button')].map(e => ['search result', e.textContent.split(' · ')[0]]));")
    english = [(key, text) for key, text in labels if key != "lang.switch" and re.search(r"[A-Za-z]", text.replace("GeoGrid", "").replace("GeoJSON", ""))]
    if english:
        fail(f"English left after switching to Chinese: {english}")
    if "lang=zh-CN" not in driver.current_url:
        fail(f"the address does not keep the language: {driver.current_url}")
    print(f"ok Chinese: {len(labels)} interface strings, none in English")
    driver.save_screenshot(os.path.join(artefacts, "dispatcher-zh-CN.png"))

    # A grid worker on a phone: the position the phone gives, a report there, the board of its own grid, and a
    # case closed at source.
    request = urllib.request.Request(base + "/auth/token", headers={"Authorization": "Bearer " + worker_token})
    with urllib.request.urlopen(request) as r:
        worker = json.load(r)
    if worker["role"] != "grid_worker" or worker["scopes"] != [expected]:
        fail(f"the worker's token is {worker}: it should be a grid worker's of grid {expected}")
    phone = browser("390,844")
    try:
        # A phone's viewport (a desktop window cannot be made narrower than 500 px).
        phone.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True})
        phone.execute_cdp_cmd("Browser.grantPermissions", {"permissions": ["geolocation"], "origin": base})
        phone.execute_cdp_cmd("Emulation.setGeolocationOverride", {"latitude": at["lat"], "longitude": at["lon"], "accuracy": 5})
        phone.get(base + "/console?lang=en")
        WebDriverWait(phone, 60, poll_frequency=0.25).until(lambda d: d.execute_script("return !!(window.geogrid && window.geogrid.ready);"))
        phone.find_element(By.ID, "token").send_keys(worker_token)
        phone.find_element(By.CSS_SELECTOR, "#signin button").click()
        WebDriverWait(phone, 10).until(lambda d: d.find_element(By.ID, "here").is_displayed())
        phone.find_element(By.ID, "here").click()
        WebDriverWait(phone, 15).until(lambda d: d.find_element(By.ID, "grid-code").text == expected and d.find_element(By.ID, "report").is_displayed())
        phone.execute_script("document.getElementById('report-category').value = 'E0102';")
        phone.find_element(By.ID, "report-description").send_keys("rubbish bags by the gate")
        phone.find_element(By.CSS_SELECTOR, "#report button[type=submit]").click()
        WebDriverWait(phone, 10).until(lambda d: d.find_element(By.ID, "report-done").get_attribute("data-case-id"))
        mine = int(phone.find_element(By.ID, "report-done").get_attribute("data-case-id"))
        with urllib.request.urlopen(f"{base}/incidents/{mine}") as r:
            stored = json.load(r)["properties"]
        if stored["grid_code"] != expected or stored["channel"] != "grid_worker":
            fail(f"the phone's case is in grid {stored['grid_code']} by channel {stored['channel']}; expected grid {expected}, grid_worker")
        WebDriverWait(phone, 5).until(lambda d: d.execute_script("return !!document.querySelector(`#cases li[data-id='${arguments[0]}']`);", mine))
        board = phone.execute_script("return [...document.querySelectorAll('#cases li')].map(li => window.geogrid.cases.get(Number(li.dataset.id)).properties.grid_code);")
        if not board or any(code != expected for code in board):
            fail(f"the worker's board holds cases of other grids: {sorted(set(board))}")
        print(f"ok phone: position in grid {expected}, case {mine} reported as grid_worker; board of {len(board)} cases, all in that grid")
        phone.save_screenshot(os.path.join(artefacts, "grid-worker-phone.png"))
        WebDriverWait(phone, 5).until(lambda d: d.execute_script(
            "const li = document.querySelector(`#cases li[data-id='${arguments[0]}']`);"
            "const b = li && li.querySelector(`button[data-to='closed_at_source']`); if (!b) return false;"
            "li.querySelector('input').value = 'settled on the spot'; b.click(); return true;", mine))
        WebDriverWait(phone, 5, poll_frequency=0.1).until(lambda d: not d.execute_script("return window.geogrid.cases.has(arguments[0]);", mine))
        with urllib.request.urlopen(f"{base}/incidents/{mine}") as r:
            stage = json.load(r)["properties"]["stage"]
        if stage != "closed_at_source":
            fail(f"the case closed on the phone is {stage} in the store")
        print("ok phone: closed at source, off the board")
    finally:
        phone.quit()

    # A planner: upload a split, findings and impact as the API has them, apply, the new boundary rendered, rollback.
    driver.execute_script("document.getElementById('lang').click();")
    WebDriverWait(driver, 10).until(lambda d: d.execute_script("return document.documentElement.lang") == "en")
    driver.find_element(By.ID, "signout").click()
    field = driver.find_element(By.ID, "token")
    field.send_keys(planner_token)
    driver.find_element(By.CSS_SELECTOR, "#signin button").click()
    WebDriverWait(driver, 10).until(lambda d: d.find_element(By.ID, "planner").is_displayed())
    driver.find_element(By.ID, "plan-file").send_keys(proposal)
    driver.find_element(By.ID, "plan-name").send_keys("split in the console")
    driver.find_element(By.ID, "plan-upload").click()
    WebDriverWait(driver, 20).until(lambda d: d.find_element(By.ID, "plan").get_attribute("data-checked") == "true")
    plan_id = int(driver.find_element(By.ID, "plan").get_attribute("data-plan-id"))
    check = api(f"/plans/{plan_id}/check", planner_token)["findings"]
    listed = driver.execute_script("return [...document.querySelectorAll('#findings li[data-kind]')].map(li => [li.dataset.kind, li.className]);")
    if sorted(listed) != sorted([f["kind"], f["severity"]] for f in check) or any(f["severity"] == "error" for f in check):
        fail(f"findings listed {listed}; the API says {[(f['kind'], f['severity']) for f in check]}")
    impact = api(f"/plans/{plan_id}/impact", planner_token)
    rows = driver.execute_script("return [...document.querySelectorAll('#impact-grids tbody tr')].map(tr => tr.dataset.code);")
    drawn = driver.execute_script("const s = window.geogrid.map.getSource('geogrid-impact'); return s ? s._data.features.length : -1;")
    if rows != [g["code"] for g in impact["grids"]] or drawn != impact["buildings_moved"]:
        fail(f"impact rows {rows}, {drawn} buildings drawn; the API: {[g['code'] for g in impact['grids']]}, {impact['buildings_moved']} moved")
    print(f"ok plan {plan_id}: {len(check)} findings, none an error; impact of {len(rows)} grids and {drawn} buildings moved, as the API says")
    # The planner's lists follow a language switch: no Latin letters in the findings and the impact in Chinese.
    planner_text = "return [...document.querySelectorAll('#findings li, #impact-summary, #impact-grids td')].map(e => e.textContent);"
    english_lists = driver.execute_script(planner_text)
    driver.find_element(By.ID, "lang").click()
    WebDriverWait(driver, 10).until(lambda d: d.execute_script("return document.documentElement.lang") == "zh-CN")
    WebDriverWait(driver, 10).until(lambda d: d.execute_script(planner_text) != english_lists)
    left = [text for text in driver.execute_script(planner_text) if re.search(r"[A-Za-z]", text)]
    if left:
        fail(f"the planner's lists keep English after switching to Chinese: {left[:5]}")
    driver.find_element(By.ID, "lang").click()
    WebDriverWait(driver, 10).until(lambda d: d.execute_script("return document.documentElement.lang") == "en")
    print(f"ok the planner's findings and impact ({len(english_lists)} texts) are redrawn in Chinese, none left in English")
    driver.find_element(By.ID, "plan-apply").click()
    WebDriverWait(driver, 20).until(lambda d: d.find_element(By.ID, "plan-done").get_attribute("data-status") in ("applied", "refused"))
    if driver.find_element(By.ID, "plan-done").get_attribute("data-status") != "applied":
        fail("the plan was refused: " + driver.find_element(By.ID, "plan-done").text)
    codes = sorted(g["properties"]["code"] for g in api(f"/plans/{plan_id}", planner_token)["grids"]["features"])
    box = json.load(open(proposal))["features"]
    lons = [p[0] for f in box for ring in f["geometry"]["coordinates"] for p in (ring if isinstance(ring[0][0], float) else ring[0])]
    lats = [p[1] for f in box for ring in f["geometry"]["coordinates"] for p in (ring if isinstance(ring[0][0], float) else ring[0])]
    driver.execute_script("window.geogrid.map.jumpTo({center: [arguments[0], arguments[1]], zoom: 15});", (min(lons) + max(lons)) / 2, (min(lats) + max(lats)) / 2)
    WebDriverWait(driver, 30, poll_frequency=0.25).until(lambda d: sorted(set(d.execute_script(
        "const m = window.geogrid.map; if (!m.loaded()) return [];"
        "return m.queryRenderedFeatures({layers: ['grids-fill']}).map(f => f.properties.code).filter(c => arguments[0].includes(c));", codes))) == codes)
    print(f"ok applied: the map renders the new grids {', '.join(codes)}")
    driver.save_screenshot(os.path.join(artefacts, "planner-applied.png"))
    WebDriverWait(driver, 10).until(lambda d: d.execute_script(
        "const b = document.querySelector(`#plans li[data-id='${arguments[0]}'] button.rollback`); if (!b) return false; b.click(); return true;", plan_id))
    WebDriverWait(driver, 10, poll_frequency=0.2).until(lambda d: api(f"/plans/{plan_id}", planner_token)["status"] == "rolled_back")
    print("ok rolled back from the history")

    # A planner moves a vertex two grids share, on the map. The vertex is chosen from the API's grids with shapely:
    # two grids of COMMUNITY have it, it is 30 m inside their union's outline, no third grid's edge passes within a
    # metre of it, and its edges in the ring are 20 m or longer (so a few metres' move keeps the rings simple).
    day = time.strftime("%Y-%m-%d")

    def grids_where(cql):
        return {f["properties"]["code"]: f for f in api(f"/collections/grids/items?datetime={day}&limit=1000&filter=" + urllib.parse.quote(cql), planner_token)["features"]}

    def rings(geometry):
        polys = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
        return [[tuple(p) for p in ring[:-1]] for poly in polys for ring in poly]

    def vertex_set(geometry):
        return {p for ring in rings(geometry) for p in ring}

    metres = 111_320.0
    before = grids_where(f"community_code = '{community}'")
    shapes = {c: shape(f["geometry"]) for c, f in before.items()}
    outline = unary_union(list(shapes.values())).boundary
    owners = {}
    for c, f in before.items():
        for p in vertex_set(f["geometry"]):
            owners.setdefault(p, set()).add(c)
    choice = None
    for p, codes in sorted(owners.items()):
        if len(codes) != 2 or outline.distance(Point(p)) * metres < 30:
            continue
        if any(shapes[c].boundary.distance(Point(p)) * metres < 1 for c in shapes if c not in codes):
            continue
        a_code, b_code = sorted(codes)
        ring = next(r for r in rings(before[a_code]["geometry"]) if p in r)
        i = ring.index(p)
        neighbours = [ring[i - 1], ring[(i + 1) % len(ring)]]
        if min(Point(p).distance(Point(q)) for q in neighbours) * metres < 20:
            continue
        b_ring = next(r for r in rings(before[b_code]["geometry"]) if p in r)
        j = b_ring.index(p)
        shared = [q for q in neighbours if q in (b_ring[j - 1], b_ring[(j + 1) % len(b_ring)])]
        if shared:
            choice = (p, a_code, b_code, shared[0])
            break
    if choice is None:
        fail(f"community {community} has no vertex two grids share well inside it")
    v, a_code, b_code, u = choice

    def editor_vertices(code):
        return vertex_set(driver.execute_script("return window.geogrid.editor.geometry(arguments[0]);", code))

    def pixel(p):
        return driver.execute_script(
            "const m = window.geogrid.map, r = m.getCanvas().getBoundingClientRect(), q = m.project([arguments[0], arguments[1]]);"
            "return [r.left + q.x, r.top + q.y];", p[0], p[1])

    def drag(start, end):
        actions = ActionBuilder(driver)
        mouse = actions.pointer_action
        mouse.move_to_location(round(start[0]), round(start[1])).pointer_down()
        for k in (1, 2, 3, 4):
            mouse.move_to_location(round(start[0] + (end[0] - start[0]) * k / 4), round(start[1] + (end[1] - start[1]) * k / 4))
        mouse.pointer_up()
        actions.perform()

    def settled():
        WebDriverWait(driver, 20, poll_frequency=0.2).until(lambda d: d.execute_script(
            "const m = window.geogrid.map; return m.loaded() && m.queryRenderedFeatures({layers: ['geogrid-edit-vertices']}).length > 0;"))

    # The grid by its code, from the keyboard; then the map at the vertex.
    field = driver.find_element(By.ID, "edit-code")
    field.clear()
    field.send_keys(a_code, Keys.ENTER)
    WebDriverWait(driver, 20).until(lambda d: d.find_element(By.ID, "edit").is_displayed() and d.find_element(By.ID, "edit").get_attribute("data-grid") == a_code)
    if v not in editor_vertices(a_code) or v not in editor_vertices(b_code):
        fail(f"the editor does not hold vertex {v} in both {a_code} and {b_code}")

    # Snapping: dropped 3 px from the nearest vertex of a ring that does not hold v, v lands exactly on it.
    near = api(f"/collections/grids/items?datetime={day}&limit=1000&bbox={v[0] - 0.003},{v[1] - 0.002},{v[0] + 0.003},{v[1] + 0.002}", planner_token)["features"]
    others = [q for f in near for ring in rings(f["geometry"]) if v not in ring for q in ring if q != v]
    w = min(others, key=lambda q: Point(v).distance(Point(q)))
    driver.execute_script("window.geogrid.map.fitBounds([[Math.min(arguments[0], arguments[2]), Math.min(arguments[1], arguments[3])],"
                          "[Math.max(arguments[0], arguments[2]), Math.max(arguments[1], arguments[3])]], {padding: 150, maxZoom: 18, animate: false});",
                          v[0], v[1], w[0], w[1])
    settled()
    wp = pixel(w)
    drag(pixel(v), (wp[0] + 3, wp[1] + 2))
    if w not in editor_vertices(a_code) or w not in editor_vertices(b_code) or v in editor_vertices(a_code):
        fail(f"dropped beside {w}, the vertex did not snap onto it in both grids")
    undo = driver.find_element(By.ID, "edit-undo")
    undo.send_keys(Keys.ENTER)
    if v not in editor_vertices(a_code) or v not in editor_vertices(b_code) or w in editor_vertices(a_code):
        fail("undo did not bring the vertex back")
    print(f"ok snapping: vertex {v} of {a_code} and {b_code}, dropped 3 px from {w}, landed on it in both; undone by keyboard")

    # The move: dragged a few metres, the vertex moves in both grids and nowhere else.
    driver.execute_script("window.geogrid.map.jumpTo({center: [arguments[0], arguments[1]], zoom: 18});", v[0], v[1])
    settled()
    start = pixel(v)
    drag(start, (start[0] + 18, start[1] - 12))
    moved = {}
    for c in (a_code, b_code):
        old, new = vertex_set(before[c]["geometry"]), editor_vertices(c)
        if len(old - new) != 1 or len(new - old) != 1 or old - new != {v}:
            fail(f"grid {c} after the drag: gone {old - new}, new {new - old}")
        moved[c] = (new - old).pop()
    if moved[a_code] != moved[b_code]:
        fail(f"the shared vertex went to {moved[a_code]} in {a_code} but {moved[b_code]} in {b_code}")
    v2 = moved[a_code]
    distance = Point(v).distance(Point(v2)) * metres
    if not 1 < distance < 30:
        fail(f"the vertex moved {distance:.1f} m for a drag of 22 px at zoom 18")

    # By keyboard: the next vertex in the list and back, one metre east with the button, and undone.
    chosen = driver.execute_script("return window.geogrid.editor.chosen;")
    select = driver.find_element(By.ID, "edit-vertex")
    last = chosen == len(select.find_elements(By.TAG_NAME, "option")) - 1
    select.send_keys(Keys.UP if last else Keys.DOWN)
    WebDriverWait(driver, 5).until(lambda d: d.execute_script("return window.geogrid.editor.chosen;") != chosen)
    select.send_keys(Keys.DOWN if last else Keys.UP)
    WebDriverWait(driver, 5).until(lambda d: d.execute_script("return window.geogrid.editor.chosen;") == chosen)
    driver.find_element(By.CSS_SELECTOR, "#edit-nudge button[data-dir='e']").send_keys(Keys.ENTER)
    east = (editor_vertices(a_code) - vertex_set(before[a_code]["geometry"])).pop()
    if east not in editor_vertices(b_code) or abs((east[0] - v2[0]) * metres * math.cos(math.radians(v2[1])) - 1) > 0.01 or abs(east[1] - v2[1]) > 1e-9:
        fail(f"one metre east of {v2} by keyboard gave {east}")
    undo.send_keys(Keys.ENTER)
    if v2 not in editor_vertices(a_code) or v2 not in editor_vertices(b_code):
        fail("undo did not take back the keyboard's move")
    print(f"ok moved vertex: {distance:.1f} m in {a_code} and {b_code} alike; by keyboard a vertex chosen, moved 1 m east in both and undone")

    # A vertex added on the edge the two grids share (toward u), by dragging its midpoint: it is in both.
    counts = {c: len(editor_vertices(c)) for c in (a_code, b_code)}
    mid = ((v2[0] + u[0]) / 2, (v2[1] + u[1]) / 2)
    mp = pixel(mid)
    drag(mp, (mp[0] + 4, mp[1] + 4))
    added = {c: editor_vertices(c) - vertex_set(before[c]["geometry"]) - {v2} for c in (a_code, b_code)}
    if any(len(editor_vertices(c)) != counts[c] + 1 or len(added[c]) != 1 for c in added) or added[a_code] != added[b_code]:
        fail(f"a vertex dragged from the shared edge's midpoint: added {added}")
    m = added[a_code].pop()

    # shapely, independently: the two moved grids are valid, cover what they covered, and do not overlap.
    new_shapes = {c: shape(driver.execute_script("return window.geogrid.editor.geometry(arguments[0]);", c)) for c in (a_code, b_code)}
    old_union, new_union = shapes[a_code].union(shapes[b_code]), new_shapes[a_code].union(new_shapes[b_code])
    if not all(g.is_valid for g in new_shapes.values()) or old_union.symmetric_difference(new_union).area > 1e-12 \
            or new_shapes[a_code].intersection(new_shapes[b_code]).area > 1e-12:
        fail("the edited grids are not seamless by shapely's measure")
    print(f"ok added vertex {m} on the shared edge in both grids; shapely finds the pair valid, seamless and covering what it covered")
    driver.save_screenshot(os.path.join(artefacts, "planner-vertices.png"))
    tab_walk(driver, "planner (editing vertices)")

    # The moved grids as a plan: checked (no error, none of overlap, gap or outside), the lists as the API has them.
    previous = driver.find_element(By.ID, "plan").get_attribute("data-plan-id")
    driver.find_element(By.ID, "edit-propose").send_keys(Keys.ENTER)
    WebDriverWait(driver, 30).until(lambda d: d.find_element(By.ID, "plan").get_attribute("data-plan-id") != previous
                                    and d.find_element(By.ID, "plan").get_attribute("data-checked") == "true")
    edit_plan = int(driver.find_element(By.ID, "plan").get_attribute("data-plan-id"))
    planned = sorted(g["properties"]["code"] for g in api(f"/plans/{edit_plan}", planner_token)["grids"]["features"])
    if planned != sorted([a_code, b_code]):
        fail(f"the plan holds {planned}, not the two moved grids")
    check = api(f"/plans/{edit_plan}/check", planner_token)["findings"]
    listed = driver.execute_script("return [...document.querySelectorAll('#findings li[data-kind]')].map(li => [li.dataset.kind, li.className]);")
    if sorted(listed) != sorted([f["kind"], f["severity"]] for f in check) or any(f["severity"] == "error" for f in check):
        fail(f"the moved boundary's findings: listed {listed}; the API says {[(f['kind'], f['severity']) for f in check]}")
    driver.find_element(By.ID, "plan-apply").click()
    WebDriverWait(driver, 20).until(lambda d: d.find_element(By.ID, "plan-done").get_attribute("data-status") in ("applied", "refused"))
    if driver.find_element(By.ID, "plan-done").get_attribute("data-status") != "applied":
        fail("the moved boundary was refused: " + driver.find_element(By.ID, "plan-done").text)
    if api(f"/plans/{edit_plan}", planner_token)["status"] != "applied":
        fail(f"the console said applied, but plan {edit_plan} is {api(f'/plans/{edit_plan}', planner_token)['status']}")
    after = grids_where(f"community_code = '{community}'")
    for c in (a_code, b_code):
        vs = vertex_set(after[c]["geometry"])
        if v in vs or v2 not in vs or m not in vs:
            fail(f"grid {c} in force after apply: old vertex there {v in vs}, moved {v2} there {v2 in vs}, added {m} there {m in vs}; "
                 f"{len(after)} grids in force on {day}, plan {api(f'/plans/{edit_plan}', planner_token)['status']}")

    # The ground that changed hands: /locate and the rendered tiles put it in the grid that gained it.
    gained = max(((a_code, shape(after[a_code]["geometry"]).intersection(shapes[b_code])), (b_code, shape(after[b_code]["geometry"]).intersection(shapes[a_code]))),
                 key=lambda x: x[1].area)
    piece = max(getattr(gained[1], "geoms", [gained[1]]), key=lambda g: g.area)
    inner = polylabel(piece, tolerance=1e-8)
    located = api(f"/locate?lon={inner.x:.9f}&lat={inner.y:.9f}")
    if (located.get("grid") or {}).get("code") != gained[0]:
        fail(f"/locate puts {inner} in {located.get('grid')}, not {gained[0]}, which gained it")
    driver.execute_script("window.geogrid.map.jumpTo({center: [arguments[0], arguments[1]], zoom: 18});", inner.x, inner.y)
    WebDriverWait(driver, 30, poll_frequency=0.25).until(lambda d: d.execute_script(
        "const m = window.geogrid.map; if (!m.loaded()) return false; const q = m.project([arguments[0], arguments[1]]);"
        "return m.queryRenderedFeatures(q, {layers: ['grids-fill']}).map(f => f.properties.code).includes(arguments[2]);", inner.x, inner.y, gained[0]))
    print(f"ok plan {edit_plan} applied: the ground between the old and new vertex ({piece.area * metres * metres * math.cos(math.radians(v[1])):.0f} m²) "
          f"is rendered and located in {gained[0]}")
    driver.save_screenshot(os.path.join(artefacts, "planner-moved.png"))
    # Readable at 1366×768: nothing in the side panel or the header runs wider than its box.
    wide = driver.execute_script("return ['panel', 'search-results'].concat([]).map(id => document.getElementById(id)).concat([document.querySelector('header')])"
                                 ".filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.id || e.tagName);")
    if wide:
        culprits = driver.execute_script(
            "const p = document.getElementById('panel'), r = p.getBoundingClientRect();"
            "return [...p.querySelectorAll('*')].filter(e => e.getClientRects().length && e.getBoundingClientRect().right + p.scrollLeft > r.left + p.clientWidth + 1)"
            ".map(e => e.tagName + '#' + e.id + ' ' + e.textContent.slice(0, 40)).slice(0, 6);")
        fail(f"at 1366×768 these run wider than their box: {wide}: {culprits}")
    print("ok readable at 1366×768: the panel and the header fit their width")
finally:
    driver.quit()
print("ok all")
