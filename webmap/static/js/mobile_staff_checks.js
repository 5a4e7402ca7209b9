// 我的考核 on the phone (/m/staff #ms-checks)
(function () {
  "use strict";
})();
