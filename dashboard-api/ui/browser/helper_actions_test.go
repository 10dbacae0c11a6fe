package browser

import (
	"encoding/json"
	"fmt"

	"github.com/chromedp/chromedp"
)

// sendKeys types text into the first element matching the CSS selector, key by key.
func sendKeys(sel, text string) chromedp.Action[chromedp.Void] {
	return chromedp.SendKeys(chromedp.CSS(sel), text, chromedp.NodeVisible)
}

// click clicks the first visible element matching the CSS selector.
func click(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible)
}

// jsString quotes s for JavaScript.
func jsString(s string) string {
	b, _ := json.Marshal(s) // a string always marshals
	return string(b)
}

// setValue replaces the value of an input or textarea, then fires input and
// change as an edit would (pasting a whole JSON definition, clearing a field).
func setValue(sel, value string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
		const el = document.querySelector(%s);
		if (!el) throw new Error('no element ' + %s);
		el.value = %s;
		el.dispatchEvent(new Event('input', { bubbles: true }));
		el.dispatchEvent(new Event('change', { bubbles: true }));
	})()`, jsString(sel), jsString(sel), jsString(value)))
}

// selectOption selects the option with value in a select (added to the
// selection of a multiple select), then fires change.
func selectOption(sel, value string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
		const el = document.querySelector(%s);
		if (!el) throw new Error('no element ' + %s);
		const opt = [...el.options].find(o => o.value === %s);
		if (!opt) throw new Error('no option ' + %s);
		opt.selected = true;
		el.dispatchEvent(new Event('change', { bubbles: true }));
	})()`, jsString(sel), jsString(sel), jsString(value), jsString(value)))
}
