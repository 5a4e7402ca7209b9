// 队伍管理 · 考核 tab (/staff #st-assessment)
(function () {
  "use strict";
})();
