"""Driving the console in a browser: a thin page helper that names what a user does."""

from pathlib import Path

from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as shown
from selenium.webdriver.support.ui import WebDriverWait

PAGE_TIMEOUT = 20


class Console:
    def __init__(self, driver, base_url: str, screenshots: Path):
        self.driver = driver
        self.base_url = base_url
        self.screenshots = screenshots
        self.steps = 0

    # --- looking ---

    def shoot(self, step: str) -> Path:
        """A PNG of the page as it is now, numbered in visiting order."""
        self.steps += 1
        path = self.screenshots / f"{self.steps:02}-{step}.png"
        self.driver.save_screenshot(str(path))
        return path

    def at_width(self, width: int) -> None:
        """Resize so the page itself (the viewport) is `width` px wide, whatever the
        browser's own frame takes."""
        self.driver.set_window_size(width, 1000)
        inner = self.driver.execute_script("return window.innerWidth")
        self.driver.set_window_size(2 * width - inner, 1000)

    def columns_off_screen(self, table_css: str) -> list[str]:
        """Header texts of the table's columns not wholly inside the viewport (scrolled
        horizontally or cut off): [] when a person sees every column."""
        return self.driver.execute_script(
            """
            const table = document.querySelector(arguments[0]);
            const width = document.documentElement.clientWidth;
            const cells = [...table.querySelectorAll("thead th, tbody tr:first-child td")];
            const off = cells.filter((cell) => cell.getBoundingClientRect().right > width + 0.5);
            const page = document.documentElement.scrollWidth > width ? ["(page scrolls)"] : [];
            return page.concat(off.map((cell) => cell.textContent.trim() || cell.tagName));
            """,
            table_css,
        )

    def find(self, css: str):
        return WebDriverWait(self.driver, PAGE_TIMEOUT).until(
            shown.presence_of_element_located((By.CSS_SELECTOR, css))
        )

    def text(self, css: str = "main") -> str:
        return self.find(css).text

    @property
    def path(self) -> str:
        return self.driver.current_url.removeprefix(self.base_url)

    # --- doing ---

    def open(self, path: str) -> None:
        self.driver.get(self.base_url + path)

    def click(self, css: str) -> None:
        """Click something that loads a page, and wait for the new one: reading right after
        a click could otherwise read the old page, still on screen."""
        self._navigating(self.find(css).click)

    def click_link(self, text: str) -> None:
        self._navigating(self.driver.find_element(By.PARTIAL_LINK_TEXT, text).click)

    def _navigating(self, action, confirm: bool = False) -> None:
        old_page = self.driver.find_element(By.TAG_NAME, "html")
        action()
        if confirm:
            WebDriverWait(self.driver, PAGE_TIMEOUT).until(shown.alert_is_present()).accept()
        # Chromium may answer a look at the old page mid-navigation with "unhandled inspector
        # error" instead of "stale": look again until it says stale.
        WebDriverWait(self.driver, PAGE_TIMEOUT, ignored_exceptions=(WebDriverException,)).until(
            shown.staleness_of(old_page)
        )
        self.find("main")

    def open_dialog(self, css: str) -> None:
        """Click what opens a dialog (no page load) and wait until it shows."""
        self.find(css).click()
        WebDriverWait(self.driver, PAGE_TIMEOUT).until(
            shown.visibility_of_element_located((By.CSS_SELECTOR, "dialog[open]"))
        )

    def submit_in_dialog(self, css: str) -> None:
        """Click a button of a dialog's form: its answer replaces the dialog's body, not
        the page, so wait for the old body's form to go."""
        old_form = self.find("dialog[open] [data-async-root] form")
        self.find(css).click()
        WebDriverWait(self.driver, PAGE_TIMEOUT).until(shown.staleness_of(old_form))

    def log_in(self, user: str, password: str) -> None:
        self.find("#id_username").send_keys(user)
        self.find("#id_password").send_keys(password)
        self.click("section.login button[type=submit]")

    def paste_yaml(self, text: str) -> None:
        """As a paste: the whole text lands in the box at once (typing would auto-repeat)."""
        box = self.find("#id_yaml")
        self.driver.execute_script(
            "arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input'))",
            box,
            text,
        )

    def press_task_button(self, action: str, confirm: bool = False) -> None:
        """A task action on the task's page; `confirm` accepts the browser's question."""
        button = self.find(f"main .heading button[data-action={action}]")
        self._navigating(button.click, confirm=confirm)
