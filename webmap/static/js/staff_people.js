// 队伍管理 · 本中心人员 tab (/staff #st-people)
(function () {
  "use strict";
})();
