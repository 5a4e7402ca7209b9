// 队伍管理 · 抽查 tab (/staff #st-spot)
(function () {
  "use strict";
})();
