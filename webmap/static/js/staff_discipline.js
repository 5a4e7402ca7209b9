// 队伍管理 · 执纪 tab (/staff #st-discipline)
(function () {
  "use strict";
})();
