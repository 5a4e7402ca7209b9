// 我的考核 on the phone (/m/staff #ms-assessment)
(function () {
  "use strict";
})();
