/* Registration: a search box that narrows the grassroots-unit <select>.
   Without JavaScript the <select> (grouped by upper-level union) works on its own.
   Options are removed and re-added rather than hidden: Android's native picker
   ignores hidden options. Matching ignores case and Vietnamese diacritics. */
(function () {
  "use strict";
  var select = document.getElementById("unit");
  var input = document.getElementById("unit-filter");
  var count = document.getElementById("unit-count");
  if (!select || !input || !String.prototype.normalize) return;

  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "")
      .replace(/[đĐ]/g, "d").toLowerCase().replace(/\s+/g, " ").trim();
  }

  var groups = [].map.call(select.getElementsByTagName("optgroup"), function (group) {
    var label = fold(group.label);
    return {
      el: group,
      options: [].map.call(group.getElementsByTagName("option"), function (option) {
        return { el: option, key: label + " " + fold(option.text + " " + option.value) };
      })
    };
  });

  function apply() {
    var words = fold(input.value).split(" ").filter(Boolean);
    var chosen = select.value;
    var found = [];
    groups.forEach(function (group) {
      group.options.forEach(function (option) {
        var match = words.every(function (word) { return option.key.indexOf(word) >= 0; });
        if (match || option.el.value === chosen) {
          group.el.appendChild(option.el);
          if (match) found.push(option.el);
        } else if (option.el.parentNode) {
          option.el.parentNode.removeChild(option.el);
        }
      });
      if (group.el.children.length) {
        select.appendChild(group.el);
      } else if (group.el.parentNode) {
        group.el.parentNode.removeChild(group.el);
      }
    });
    if (found.length === 1) found[0].selected = true;
    if (!words.length) {
      count.textContent = "";
    } else if (found.length) {
      count.textContent = input.getAttribute("data-found").replace("{n}", found.length);
    } else {
      count.textContent = input.getAttribute("data-none");
    }
  }

  input.hidden = false;
  input.addEventListener("input", apply);
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter") { event.preventDefault(); select.focus(); }
  });
})();
