// 队伍管理 · 请假 tab (/staff #st-leave)
(function () {
  "use strict";
})();
